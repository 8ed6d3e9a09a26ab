"""Generate the offline demo web (static HTML, feeds, sitemaps) and gold.jsonl.

Content lives in content_*.yaml; this script renders it with per-site templates
into demo/sites/<site>/ and writes gold.jsonl, one expected DOCUMENT per line.
Run it after editing the content:  .venv/bin/python demo/sites/build.py
Output is deterministic so regenerated files diff cleanly. Tests call
``build(out_dir, edit)`` to render variants (e.g. a thread before it grew).
"""
from __future__ import annotations

import html
import json
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

import yaml

HERE = Path(__file__).resolve().parent
BASE_PORT = 8701
CST = timezone(timedelta(hours=8))
SITES = ("cn-news", "en-news", "forum")
OUT = HERE  # where the sites are written; build() changes it
EDIT: Callable[[str, dict], None] = lambda site, data: None  # noqa: E731 - hook for variants


def origin(site: str) -> str:
    return f"http://127.0.0.1:{BASE_PORT + SITES.index(site)}"


def esc(text: str) -> str:
    return html.escape(text, quote=True)


def write(site: str, path: str, data: str | bytes, encoding: str = "utf-8") -> None:
    target = OUT / site / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data if isinstance(data, bytes) else data.encode(encoding))


def write_routes(site: str, routes: dict, **defaults) -> None:
    doc = {"content_types": defaults, "routes": dict(sorted(routes.items()))}
    write(site, "_routes.json", json.dumps(doc, ensure_ascii=False, indent=1) + "\n")


def load(site: str, name: str) -> dict:
    data = yaml.safe_load((HERE / f"{name}.yaml").read_text("utf-8"))
    EDIT(site, data)
    return data


def gold(site: str, url: str, doc_type: str, title: str, paras: list[str], published: str | None,
         author: str, relevant: bool, **post) -> dict:
    row = {"site": site, "url": url, "doc_type": doc_type, "title": title, "text": "\n".join(paras),
           "published": published, "author": author, "thread_id": None, "post_id": None,
           "floor": None, "quote": None, "reply_to": None, "relevant": relevant}
    row.update(post)
    return row


# --------------------------------------------------------------------------- cn-news (GBK portal)

CN_COMMENTS = [
    ("南岭网友", "合规经营才是长久之计。"),
    ("深圳网友", "身边好几个做跨境的朋友都受影响了，希望能挺过去。"),
    ("广州网友", "早该整治了，刷出来的好评根本不可信。"),
    ("网友9527", "请问记者，被冻结的钱最后能拿回来吗？"),
    ("东莞网友", "工厂这边订单也少了很多。"),
]
CN_AD = '<div class="ad ad-{kind}"><a href="http://ad.nanling-ad.com/c?id={n}" target="_blank">{text}</a><span class="ad-tag">广告</span></div>'
CN_AD_TEXTS = ["美国专线小包 7天妥投 价格透明", "跨境收款 0费率开户 当天到账", "海外仓一件代发 欧美多仓可选"]


def cn_date(a: dict) -> tuple[str, str]:
    """Return (shown date, gold ISO date) for a cn-news article."""
    if a["date_form"] == "cn_date":
        d = datetime.strptime(a["date"], "%Y-%m-%d")
        return f"{d.year}年{d.month}月{d.day}日", d.date().isoformat()
    d = datetime.strptime(a["date"], "%Y-%m-%d %H:%M").replace(tzinfo=CST)
    shown = f"{d.year}年{d.month}月{d.day}日 {d:%H:%M}" if a["date_form"] == "cn" else f"{d:%Y-%m-%d %H:%M}"
    return shown, d.isoformat()


def cn_path(a: dict) -> str:
    column = f"{a['column']['path']}/" if "column" in a else ""
    return f"/a/{column}{a['date'][:10].replace('-', '')}/{a['id']}.html"


def republished(copy: dict, original: dict) -> dict:
    """A copy of ``original`` as another column republishes it: the editor's note and an intro line
    above the original's paragraphs, its own URL, date, headline and column."""
    return {**original, **{k: v for k, v in copy.items() if k not in ("of", "note", "intro")},
            "paras": [copy["note"], copy["intro"], *original["paras"]], "variant": None}


def cn_page(title: str, body: str, charset: str | None, description: str = "") -> str:
    meta = f'<meta http-equiv="Content-Type" content="text/html; charset={charset}" />\n' if charset else ""
    return f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml">
<head>
{meta}<title>{esc(title)}</title>
<meta name="keywords" content="财经,跨境电商,南岭" />
<meta name="description" content="{esc(description)}" />
<link rel="stylesheet" type="text/css" href="/css/main.css" />
<script type="text/javascript" src="/js/jquery.min.js"></script>
</head>
<body>
<div class="topbar"><div class="w1000"><span>欢迎访问南岭财经网</span> <a href="/member/login.php">登录</a> | <a href="/member/reg.php">注册</a> | <a href="/rss/roll.xml">RSS订阅</a></div></div>
<div class="header w1000"><a href="/" class="logo"><img src="/images/logo.gif" alt="南岭财经网" /></a>
<ul class="nav"><li><a href="/">首页</a></li><li><a href="/roll/index.html">滚动</a></li><li><a href="/roll/index.html">跨境</a></li><li><a href="/roll/index.html">产经</a></li><li><a href="/roll/index.html">城事</a></li></ul></div>
{body}
<div class="footer"><p><a href="/about.html">关于我们</a> | <a href="/about.html">联系我们</a> | <a href="/about.html">广告服务</a></p>
<p>Copyright &copy; 2021 南岭财经网 版权所有 未经授权禁止转载</p><p>粤ICP备00000000号</p></div>
<script type="text/javascript">var _hmt = _hmt || []; /* 统计代码 */</script>
</body>
</html>
"""


def cn_article(a: dict, others: list[dict], n: int) -> str:
    shown, _ = cn_date(a)
    column = a.get("column", {"name": "滚动新闻"})
    crumbs = " &gt; ".join(f'<a href="/roll/index.html">{c}</a>' for c in (column["name"], column.get("sub")) if c)
    paras = [f"<p>　　{esc(p)}</p>" for p in a["paras"]]
    if n % 3 == 0 and len(paras) > 2:  # some articles carry an in-text ad
        paras.insert(2, CN_AD.format(kind="inline", n=n, text=CN_AD_TEXTS[n % 3]))
    related = "".join(f'<li><a href="{cn_path(o)}">{esc(o["title"])}</a></li>' for o in others)
    comments = "".join(
        f'<div class="comment-item"><span class="user">{u}</span> <span class="ctime">{shown.split(" ")[0]}</span><p>{c}</p></div>'
        for u, c in CN_COMMENTS[n % 3: n % 3 + 2]) if a["relevant"] else ""
    comment_box = (f'<div class="comments" id="comments"><h3>网友评论（{2 if comments else 0}）</h3>{comments}'
                   '<form action="/member/comment.php" method="post"><textarea name="c"></textarea><input type="submit" value="发表评论" /></form></div>')
    body = f"""{CN_AD.format(kind="banner", n=n + 100, text=CN_AD_TEXTS[(n + 1) % 3])}
<div class="position w1000">当前位置：<a href="/">首页</a> &gt; {crumbs} &gt; 正文</div>
<div class="main w1000"><div class="left">
<div class="article">
<h1>{esc(a["title"])}</h1>
<div class="info"><span class="time">{shown}</span> <span class="source">来源：{a.get("source", "南岭财经网")}</span> <span class="author">作者：{esc(a["author"])}</span> <a href="/print/{a["id"]}.html" class="print">打印</a> <a href="#comments">评论</a></div>
<div class="content" id="artibody">
{chr(10).join(paras)}
<p class="editor">（责任编辑：张立）</p>
</div>
<div class="share">分享到：<a href="#">微信</a> <a href="#">微博</a> <a href="#">QQ空间</a></div>
<div class="related"><h3>相关阅读</h3><ul>{related}</ul></div>
{comment_box}
</div></div>
<div class="right"><div class="hot"><h3>24小时热点</h3><ol>{related}</ol></div>
{CN_AD.format(kind="side", n=n + 200, text=CN_AD_TEXTS[(n + 2) % 3])}</div></div>"""
    charset = {"no_charset": None, "gb2312_declared": "gb2312"}.get(a.get("variant"), "gbk")
    return cn_page(f"{a['title']}_南岭财经网", body, charset, a["paras"][0][:60])


def build_cn(rows: list[dict]) -> None:
    site = "cn-news"
    data = load("cn-news", "content_cn")
    articles = sorted(data["articles"], key=lambda a: a["date"], reverse=True)
    routes = {}
    for n, a in enumerate(articles):
        others = [o for o in articles if o is not a and o["relevant"] == a["relevant"]][n % 4: n % 4 + 4]
        page = cn_article(a, others, n).encode("gbk")
        variant = a.get("variant")
        if variant == "truncated":  # connection cut inside the related-links box
            page = page[: page.index('<div class="related">'.encode()) + 60]
        elif variant == "wrong_header_charset":
            routes[cn_path(a)] = {"content_type": "text/html; charset=utf-8"}
        elif variant == "flaky_429":
            routes[cn_path(a)] = {"fail_first": 1, "fail_status": 429}
        write(site, cn_path(a), page)
        shown, published = cn_date(a)
        rows.append(gold(site, origin(site) + cn_path(a), "article", a["title"], a["paras"], published,
                         a["author"], a["relevant"]))

    # Republished copies: another column, another frame (related links, source line, note, intro).
    by_id = {a["id"]: a for a in articles}
    copies = []
    for i, c in enumerate(data.get("republished", [])):
        a = republished(c, by_id[c["of"]])
        copies.append(a)
        write(site, cn_path(a), cn_article(a, [by_id[o] for o in c["related"]], len(articles) + i).encode("gbk"))
        rows.append(gold(site, origin(site) + cn_path(a), "article", a["title"], a["paras"], cn_date(a)[1],
                         a["author"], a["relevant"], story_of=origin(site) + cn_path(by_id[c["of"]])))

    # Broken or off-limits links mixed into the listing.
    broken = [
        ("/a/zt/20210701/900001.html", "【专题】聚焦跨境电商合规（会员专享）"),
        ("/a/20210601/900002.html", "跨境电商出口数据快报"),
        ("/a/20210602/900003.html", "独家：又一家大卖被封"),
        ("/a/20210603/900005.html", "图解：封店潮时间线"),
        ("/a/20210604/900006.html", "此稿件已删除"),
    ]
    write(site, broken[0][0], cn_page("会员专题_南岭财经网", "<div class='main'><p>　　本专题仅限会员浏览。</p></div>", "gbk").encode("gbk"))
    routes[broken[1][0]] = {"status": 500}
    routes[broken[2][0]] = {"redirect": "/a/20210602/900004.html"}
    routes["/a/20210602/900004.html"] = {"redirect": broken[2][0]}
    write(site, broken[3][0], b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    routes[broken[3][0]] = {"content_type": "image/png"}

    listing = [(cn_path(a), a["title"], cn_date(a)[0].split(" ")[0])
               for a in sorted(articles + copies, key=lambda a: a["date"], reverse=True)]
    for i, (path, title) in enumerate(broken):
        listing.insert(3 + i * 4, (path, title, "2021年6月"))
    per_page, pages = 10, (len(listing) + 9) // 10
    for p in range(pages):
        items = "".join(f'<li><span class="date">{d}</span><a href="{u}" target="_blank">{esc(t)}</a></li>\n'
                        for u, t, d in listing[p * per_page:(p + 1) * per_page])
        nav = " ".join(("<b>%d</b>" if q == p else '<a href="%s">%%d</a>' % ("index.html" if q == 0 else f"index_{q + 1}.html")) % (q + 1)
                       for q in range(pages))
        if p + 1 < pages:
            nav += f' <a href="index_{p + 2}.html" class="next">下一页</a>'
        body = f'<div class="main w1000"><div class="left"><h2>滚动新闻</h2><ul class="list">\n{items}</ul><div class="pages">{nav}</div></div></div>'
        write(site, "/roll/index.html" if p == 0 else f"/roll/index_{p + 1}.html",
              cn_page(f"滚动新闻_第{p + 1}页_南岭财经网", body, "gbk").encode("gbk"))

    top = "".join(f'<li><a href="{cn_path(a)}">{esc(a["title"])}</a></li>' for a in articles[:6])
    write(site, "/index.html", cn_page("南岭财经网_财经新闻_跨境电商", f'<div class="main w1000"><h2>要闻</h2><ul>{top}</ul><p><a href="/roll/index.html">更多滚动新闻</a></p></div>', "gbk").encode("gbk"))
    # The feed still uses the old URL scheme for the newest story; the server redirects it.
    old = f"/a/{articles[0]['date'][:4]}/{articles[0]['date'][5:10].replace('-', '')}/{articles[0]['id']}.html"
    routes[old] = {"redirect": cn_path(articles[0]), "status": 301}
    items = "".join(f"""<item><title>{esc(a["title"])}</title><link>{origin(site)}{old if a is articles[0] else cn_path(a)}</link>
<description>{esc(a["paras"][0])}</description><pubDate>{rfc822(a)}</pubDate><author>{esc(a["author"])}</author></item>
""" for a in articles[:10])
    rss = f"""<?xml version="1.0" encoding="gbk"?>
<rss version="2.0"><channel><title>南岭财经网 - 滚动新闻</title><link>{origin(site)}/roll/index.html</link>
<description>南岭财经网滚动新闻</description><language>zh-cn</language>
{items}</channel></rss>
"""
    write(site, "/rss/roll.xml", rss.encode("gbk"))
    write(site, "/robots.txt", "User-agent: *\nDisallow: /member/\nDisallow: /print/\nDisallow: /a/zt/\n")
    write_routes(site, routes, html="text/html", xml="application/xml")


def rfc822(a: dict) -> str:
    fmt = "%Y-%m-%d" if a["date_form"] == "cn_date" else "%Y-%m-%d %H:%M"
    return datetime.strptime(a["date"], fmt).replace(tzinfo=CST).strftime("%a, %d %b %Y %H:%M:%S +0800")


# --------------------------------------------------------------------------- en-news (sitemap + JSON-LD)

def en_path(a: dict, amp: bool = False) -> str:
    return f"{'/amp' if amp else ''}/news/{a['date'][:10].replace('-', '/')}/{a['slug']}.html"


def en_article(a: dict, others: list[dict], n: int) -> str:
    d = datetime.strptime(a["date"], "%Y-%m-%d %H:%M").replace(tzinfo=timezone.utc)
    url = origin("en-news") + en_path(a)
    ld = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": a["title"],
          "datePublished": d.isoformat(), "dateModified": (d + timedelta(hours=2)).isoformat(),
          "author": {"@type": "Person", "name": a["author"]}, "articleSection": a["section"],
          "publisher": {"@type": "Organization", "name": "The Commerce Ledger"}, "mainEntityOfPage": url}
    paras = [f"<p>{esc(p)}</p>" for p in a["paras"]]
    if n % 2 == 0:
        paras.insert(1, '<aside class="ad-slot" aria-label="Advertisement"><span>Advertisement</span><div id="gpt-ad-1"></div></aside>')
    if n % 3 == 1:
        paras.insert(len(paras) - 1, f'<div class="inline-related">Read more: <a href="{en_path(others[0])}">{esc(others[0]["title"])}</a></div>')
    more = "".join(f'<li><a href="{en_path(o)}">{esc(o["title"])}</a></li>' for o in others)
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(a["title"])} | The Commerce Ledger</title>
<link rel="canonical" href="{url}">
<meta property="og:title" content="{esc(a["title"])}">
<meta property="og:type" content="article">
<meta name="author" content="{esc(a["author"])}">
<script type="application/ld+json">{json.dumps(ld, ensure_ascii=False)}</script>
</head>
<body>
<header class="site-header"><a class="brand" href="/">The Commerce Ledger</a>
<nav><a href="/">Home</a> <a href="/section/retail.html">Retail</a> <a href="/section/markets.html">Markets</a> <a href="/section/technology.html">Technology</a> <a href="/search?q=">Search</a></nav></header>
<main>
<article class="story">
<p class="kicker">{esc(a["section"])}</p>
<h1 class="headline">{esc(a["title"])}</h1>
<div class="byline">By <a rel="author" href="/authors/{a["author"].lower().replace(" ", "-")}.html">{esc(a["author"])}</a> &middot; <time datetime="{d.isoformat()}">{d:%B} {d.day}, {d.year}</time></div>
<div class="story-body">
{chr(10).join(paras)}
</div>
<div class="newsletter"><h3>Get the Ledger in your inbox</h3><form action="/subscribe"><input type="email" placeholder="Email address"><button>Sign up</button></form></div>
</article>
<section class="more-stories"><h2>More from the Ledger</h2><ul>{more}</ul></section>
</main>
<footer><p>&copy; 2021 The Commerce Ledger. All rights reserved.</p><p><a href="/about.html">About</a> &middot; <a href="/privacy.html">Privacy</a></p></footer>
</body>
</html>
"""


def build_en(rows: list[dict]) -> None:
    site = "en-news"
    data = load("en-news", "content_en")
    articles = sorted(data["articles"], key=lambda a: a["date"])
    routes, sitemap_urls = {}, []
    for n, a in enumerate(articles):
        others = [o for o in articles if o is not a][n % 5: n % 5 + 3]
        page = en_article(a, others, n)
        variant = a.get("variant")
        write(site, en_path(a), page)
        if variant == "amp_disallowed":
            write(site, en_path(a, amp=True), page)
            sitemap_urls.append((en_path(a, amp=True), a["date"]))
            continue
        sitemap_urls.append((en_path(a), a["date"]))
        if variant == "huge":
            routes[en_path(a)] = {"pad_bytes": 12_000_000}
        elif variant == "slow":
            routes[en_path(a)] = {"delay": 4}
        else:
            d = datetime.strptime(a["date"], "%Y-%m-%d %H:%M").replace(tzinfo=timezone.utc)
            rows.append(gold(site, origin(site) + en_path(a), "article", a["title"], a["paras"],
                             d.isoformat(), a["author"], a["relevant"]))
    by_slug = {a["slug"]: a for a in articles}
    for i, c in enumerate(data.get("republished", [])):  # syndicated under another section, one paragraph more
        original = by_slug[c["of"]]
        a = {**original, **{k: v for k, v in c.items() if k not in ("of", "note")},
             "paras": [*original["paras"], c["note"]]}
        write(site, en_path(a), en_article(a, [by_slug[o] for o in c["related"]], len(articles) + i))
        sitemap_urls.append((en_path(a), a["date"]))
        d = datetime.strptime(a["date"], "%Y-%m-%d %H:%M").replace(tzinfo=timezone.utc)
        rows.append(gold(site, origin(site) + en_path(a), "article", a["title"], a["paras"], d.isoformat(),
                         a["author"], a["relevant"], story_of=origin(site) + en_path(original)))
    sitemap_urls.append(("/news/2021/12/01/withdrawn-story.html", "2021-12-01 09:00"))  # 404
    halves = {"/sitemaps/news-2021-h1.xml": [u for u in sitemap_urls if u[1] < "2021-07"],
              "/sitemaps/news-2021-h2.xml": [u for u in sitemap_urls if u[1] >= "2021-07"]}
    for path, urls in halves.items():
        entries = "".join(f"<url><loc>{origin(site)}{u}</loc><lastmod>{d[:10]}</lastmod><changefreq>never</changefreq></url>\n"
                          for u, d in urls)
        write(site, path, f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{entries}</urlset>\n')
    index = "".join(f"<sitemap><loc>{origin(site)}{p}</loc></sitemap>\n" for p in halves)
    write(site, "/sitemap.xml", f'<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{index}</sitemapindex>\n')
    latest = "".join(f'<li><a href="{u}">{u.rsplit("/", 1)[-1][:-5].replace("-", " ").capitalize()}</a></li>' for u, _ in sitemap_urls[-6:])
    write(site, "/index.html", f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>The Commerce Ledger</title></head><body><h1>The Commerce Ledger</h1><ul>{latest}</ul></body></html>\n')
    write(site, "/robots.txt", f"User-agent: *\nDisallow: /search\nDisallow: /amp/\n\nSitemap: {origin(site)}/sitemap.xml\n")
    write_routes(site, routes, html="text/html; charset=utf-8", xml="application/xml")


# --------------------------------------------------------------------------- forum (Discuz! X3 style)

def discuz_time(t: str) -> str:
    d = datetime.strptime(t, "%Y-%m-%d %H:%M")
    return f"{d.year}-{d.month}-{d.day} {d:%H:%M}"


def forum_page(title: str, crumbs: str, body: str, charset: str) -> str:
    return f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml">
<head>
<meta http-equiv="Content-Type" content="text/html; charset={charset}" />
<title>{esc(title)} -  跨境卖家圈 -  Powered by Discuz!</title>
<meta name="generator" content="Discuz! X3.4" />
<link rel="stylesheet" type="text/css" href="data/cache/style_1_common.css?x7Q" />
<script src="static/js/common.js?x7Q" type="text/javascript"></script>
</head>
<body id="nv_forum" class="pg_viewthread">
<div id="toptb" class="cl"><div class="wp"><div class="z"><a href="forum.php">设为首页</a><a href="forum.php">收藏本站</a></div>
<div class="y"><a href="member.php?mod=logging&amp;action=login">登录</a><a href="member.php?mod=register">立即注册</a></div></div></div>
<div id="hd"><div class="wp"><h2><a href="forum.php" title="跨境卖家圈"><img src="static/image/common/logo.png" alt="跨境卖家圈" border="0" /></a></h2>
<div id="nv"><ul><li class="a"><a href="forum.php">论坛</a></li><li><a href="home.php">家园</a></li><li><a href="search.php">搜索</a></li></ul></div></div></div>
<div id="wp" class="wp">
<div id="pt" class="bm cl"><div class="z"><a href="forum.php" class="nvhm">跨境卖家圈</a> <em>&rsaquo;</em> {crumbs}</div></div>
{body}
</div>
<div id="ft" class="wp cl"><div id="flk" class="y"><p><a href="forum.php?mobile=yes">手机版</a>|<a href="forum.php?mod=misc&amp;action=showdarkroom">小黑屋</a>|<strong><a href="forum.php">跨境卖家圈</a></strong></p></div>
<div id="frt"><p>Powered by <strong><a href="http://www.discuz.net" target="_blank">Discuz!</a></strong> <em>X3.4</em></p><p class="xs0">&copy; 2001-2021 Comsenz Inc.</p></div></div>
</body>
</html>
"""


def build_forum(rows: list[dict]) -> None:
    site = "forum"
    data = load("forum", "content_forum")
    users, boards, ppp = data["users"], data["boards"], 5
    news = {a["id"]: a for a in yaml.safe_load((HERE / "content_cn.yaml").read_text("utf-8"))["articles"]}
    for t in data["threads"]:  # a post reposting a cn-news article: its first line, the article, its last line
        for p in t["posts"]:
            if "repost_of" in p:
                article = news[p["repost_of"]]
                p["text"] = [p["text"][0], *article["paras"], *p["text"][1:]]
                p["story_of"] = origin("cn-news") + cn_path(article)
    posts_by_pid = {p["pid"]: p for t in data["threads"] for p in t["posts"]}
    routes = {}
    for t in data["threads"]:
        board, charset = boards[t["board"]], t.get("charset", "gbk")
        pages = (len(t["posts"]) + ppp - 1) // ppp
        t["pages"] = pages
        for page in range(1, pages + 1):
            path = f"/thread-{t['tid']}-{page}-1.html"
            chunk = t["posts"][(page - 1) * ppp: page * ppp]
            blocks = []
            for i, p in enumerate(chunk):
                floor = (page - 1) * ppp + i + 1
                blocks.append(forum_post(t, p, floor, users, posts_by_pid))
                if t["board"] != 40:
                    rows.append(forum_gold(site, path, t, p, floor, users, posts_by_pid))
            pg = forum_pager(f"thread-{t['tid']}-%d-1.html", page, pages)
            crumbs = (f'<a href="forum.php">论坛</a> <em>&rsaquo;</em> <a href="forum-{t["board"]}-1.html">{board["name"]}</a>'
                      f' <em>&rsaquo;</em> <a href="thread-{t["tid"]}-1-1.html">{esc(t["title"])}</a>')
            body = f"""<div id="pgt" class="pgs mbm cl">{pg}<a id="newspecial" href="forum.php?mod=post&amp;action=newthread&amp;fid={t["board"]}" title="发新帖"><img src="static/image/common/pn_post.png" alt="发新帖" /></a></div>
<div id="postlist" class="pl bm">
<table cellspacing="0" cellpadding="0"><tr><td class="pls ptn pbn"><div class="hm ptn"><span class="xg1">查看:</span> <span class="xi1">{300 + t["tid"] % 97 * 13}</span><span class="pipe">|</span><span class="xg1">回复:</span> <span class="xi1">{len(t["posts"]) - 1}</span></div></td>
<td class="plc ptm pbn vwthd"><h1 class="ts"><a href="forum-{t["board"]}-1.html">[{board["name"]}]</a> <span id="thread_subject">{esc(t["title"])}</span></h1>
<span class="xg1"><a href="thread-{t["tid"]}-1-1.html" onclick="return copyThreadUrl(this)">[复制链接]</a></span></td></tr></table>
{"".join(blocks)}
</div>
<div class="pgs mtm mbm cl">{pg}<span class="pgb y"><a href="forum-{t["board"]}-1.html">返回列表</a></span></div>"""
            write(site, path, forum_page(f"{t['title']}{' - 第%d页' % page if page > 1 else ''} - {board['name']}", crumbs, body, charset).encode(charset, "xmlcharrefreplace"))
            if charset != "gbk":  # an imported Big5 page; the server still announces the site-wide GBK
                routes[path] = {"content_type": "text/html; charset=gbk"}

    for fid, board in boards.items():
        threads = [t for t in data["threads"] if t["board"] == fid]
        per, npages = board["threads_per_page"], (len(threads) + board["threads_per_page"] - 1) // board["threads_per_page"]
        for page in range(1, npages + 1):
            rows_html = "".join(forum_list_row(t, users) for t in threads[(page - 1) * per: page * per])
            pg = forum_pager(f"forum-{fid}-%d.html", page, npages)
            body = f"""<div class="boardnav"><div id="ct" class="wp cl"><div class="mn">
<div class="bm bml pbn"><div class="bm_h cl"><h1 class="xs2"><a href="forum-{fid}-1.html">{board["name"]}</a> <span class="xs1 xw0 i">今日: <strong class="xi1">0</strong></span></h1></div></div>
<div id="pgt" class="bm bw0 pgs cl">{pg}</div>
<div id="threadlist" class="tl bm bmw"><div class="bm_c"><form method="post" name="moderate" id="moderate" action="forum.php?mod=topicadmin&amp;action=moderate&amp;fid={fid}">
<table summary="forum_{fid}" cellspacing="0" cellpadding="0" id="threadlisttableid">
{rows_html}</table></form></div></div>
<div class="bm bw0 pgs cl">{pg}</div></div></div></div>"""
            write(site, f"/forum-{fid}-{page}.html",
                  forum_page(f"{board['name']}{' - 第%d页' % page if page > 1 else ''}", f'<a href="forum.php">论坛</a> <em>&rsaquo;</em> <a href="forum-{fid}-1.html">{board["name"]}</a>', body, "gbk").encode("gbk"))
    index = "".join(f'<tr><td class="fl_g"><h2><a href="forum-{fid}-1.html">{b["name"]}</a></h2></td></tr>' for fid, b in boards.items())
    write(site, "/forum.php", forum_page("论坛", "论坛", f'<div class="fl bm"><table class="fl_tb">{index}</table></div>', "gbk").encode("gbk"))
    write(site, "/robots.txt", "#\n# robots.txt for Discuz! X3\n#\nUser-agent: *\nDisallow: /api/\nDisallow: /data/\n"
          "Disallow: /home.php\nDisallow: /member.php\nDisallow: /search.php\nDisallow: /forum.php?mod=redirect\n"
          "Disallow: /forum.php?mod=post\nDisallow: /forum-40-\nDisallow: /thread-1209-\n")
    routes["/forum.php"] = {"content_type": "text/html; charset=gbk"}
    write_routes(site, routes, html="text/html; charset=gbk", xml="application/xml")


def forum_pager(pattern: str, page: int, pages: int) -> str:
    if pages == 1:
        return ""
    links = "".join(f"<strong>{q}</strong>" if q == page else f'<a href="{pattern % q}">{q}</a>' for q in range(1, pages + 1))
    prev = f'<a href="{pattern % (page - 1)}" class="prev">&nbsp;&nbsp;</a>' if page > 1 else ""
    nxt = f'<a href="{pattern % (page + 1)}" class="nxt">下一页</a>' if page < pages else ""
    return f'<div class="pg">{prev}{links}<label><input type="text" name="custompage" class="px" size="2" value="{page}" /><span title="共 {pages} 页"> / {pages} 页</span></label>{nxt}</div>'


def quote_of(p: dict, posts_by_pid: dict, users: dict) -> tuple[str, str, str] | None:
    """(author, shown time, quoted text) for a post that quotes another, like Discuz's [quote]."""
    if "quote" not in p:
        return None
    q = posts_by_pid[p["quote"]]
    text = q["text"][0]
    if len(text) > 40:
        text = text[:40] + " ..."
    return users[q["uid"]]["name"], (discuz_time(q["time"]) if q["time"][:4].isdigit() else q["time"]), text


def forum_post(t: dict, p: dict, floor: int, users: dict, posts_by_pid: dict) -> str:
    pid, uid = p["pid"], p["uid"]
    user = users[uid]
    if p["time"][:4].isdigit():
        when = f'<em id="authorposton{pid}">发表于 {discuz_time(p["time"])}</em>'
    else:
        when = f'<em id="authorposton{pid}">发表于 <span title="">{p["time"].replace(" ", "&nbsp;")}</span></em>'
    q = quote_of(p, posts_by_pid, users)
    quote = (f'<div class="quote"><blockquote><font size="2"><a href="forum.php?mod=redirect&amp;goto=findpost&amp;pid={p["quote"]}&amp;ptid={t["tid"]}" target="_blank">'
             f'<font color="#999999">{esc(q[0])} 发表于 {q[1]}</font></a></font><br />\n{esc(q[2])}</blockquote></div><br />\n') if q else ""
    edited = (f'<i class="pstatus"> 本帖最后由 {esc(user["name"])} 于 {p["edited"]} 编辑 </i><br />\n<br />\n' if "edited" in p else "")
    message = "<br />\n".join(esc(x) for x in p["text"])
    sign = f'<div class="sign" style="max-height:100px;maxHeightIE:100px;">{esc(user["sign"])}</div>' if "sign" in user else ""
    return f"""<div id="post_{pid}"><table id="pid{pid}" class="plhin" summary="pid{pid}" cellspacing="0" cellpadding="0">
<tr><td class="pls" rowspan="2"><div id="favatar{pid}" class="pls favatar"><div class="pi"><div class="authi"><a href="home.php?mod=space&amp;uid={uid}" target="_blank" class="xw1">{esc(user["name"])}</a></div></div>
<div><div class="avatar"><a href="home.php?mod=space&amp;uid={uid}" class="avtm" target="_blank"><img src="uc_server/avatar.php?uid={uid}&amp;size=middle" /></a></div></div>
<dl class="pil cl"><dt>积分</dt><dd>{uid * 7 % 900}</dd></dl></div></td>
<td class="plc"><div class="pi"><strong><a href="forum.php?mod=redirect&amp;goto=findpost&amp;ptid={t["tid"]}&amp;pid={pid}" id="postnum{pid}"><em>{floor}</em>#</a></strong>
<div class="pti"><div class="authi"><img class="authicn vm" id="authicon{pid}" src="static/image/common/online_member.gif" />
{when}<span class="pipe">|</span><a href="forum.php?mod=viewthread&amp;tid={t["tid"]}&amp;page=1&amp;authorid={uid}">只看该作者</a></div></div></div>
<div class="pct"><div class="pcb"><div class="t_fsz">
<table cellspacing="0" cellpadding="0"><tr><td class="t_f" id="postmessage_{pid}">
{edited}{quote}{message}</td></tr></table>
</div></div></div></td></tr>
<tr><td class="plc plm">{sign}</td></tr>
<tr><td class="pls"></td><td class="plc"><div class="po hin"><div class="pob cl"><em><a class="fastre" href="forum.php?mod=post&amp;action=reply&amp;fid=38&amp;tid={t["tid"]}&amp;repquote={pid}">回复</a></em></div></div></td></tr>
</table></div>
"""


def forum_list_row(t: dict, users: dict) -> str:
    first, last = t["posts"][0], t["posts"][-1]
    kind = "stickthread" if t.get("sticky") else "normalthread"
    tps = ""
    if t["pages"] > 1:
        tps = '<span class="tps">&nbsp;...' + "".join(f'<a href="thread-{t["tid"]}-{q}-1.html">{q}</a>' for q in range(2, t["pages"] + 1)) + "</span>"
    last_time = discuz_time(last["time"]) if last["time"][:4].isdigit() else last["time"]
    return f"""<tbody id="{kind}_{t["tid"]}"><tr><td class="icn"><a href="thread-{t["tid"]}-1-1.html" title="新窗口打开" target="_blank"><img src="static/image/common/folder_common.gif" /></a></td>
<th class="common"><a href="thread-{t["tid"]}-1-1.html" onclick="atarget(this)" class="s xst">{esc(t["title"])}</a>{tps}</th>
<td class="by"><cite><a href="home.php?mod=space&amp;uid={first["uid"]}" c="1">{esc(users[first["uid"]]["name"])}</a></cite><em><span>{discuz_time(first["time"]).split(" ")[0]}</span></em></td>
<td class="num"><a href="thread-{t["tid"]}-1-1.html" class="xi2">{len(t["posts"]) - 1}</a><em>{300 + t["tid"] % 97 * 13}</em></td>
<td class="by"><cite><a href="home.php?mod=space&amp;username={esc(users[last["uid"]]["name"])}" c="1">{esc(users[last["uid"]]["name"])}</a></cite><em><a href="forum.php?mod=redirect&amp;tid={t["tid"]}&amp;goto=lastpost#lastpost">{last_time}</a></em></td></tr></tbody>
"""


def forum_gold(site: str, path: str, t: dict, p: dict, floor: int, users: dict, posts_by_pid: dict) -> dict:
    q = quote_of(p, posts_by_pid, users)
    published, relative = None, None
    if p["time"][:4].isdigit():
        published = datetime.strptime(p["time"], "%Y-%m-%d %H:%M").replace(tzinfo=CST).isoformat()
    else:
        relative = p["time"]
    row = gold(site, f"{origin(site)}{path}#pid{p['pid']}", "post", t["title"], p["text"], published,
               users[p["uid"]]["name"], t["relevant"], thread_id=str(t["tid"]), post_id=str(p["pid"]),
               floor=floor, quote=q[2] if q else None, reply_to=str(p["quote"]) if q else None)
    if relative:
        row["published_relative"] = relative
    if "story_of" in p:
        row["story_of"] = p["story_of"]
    return row


def build(out: Path = HERE, edit: Callable[[str, dict], None] | None = None) -> list[dict]:
    """Render all sites into ``out`` (content passed through ``edit`` first); return the gold rows."""
    global OUT, EDIT
    OUT, EDIT = Path(out), edit or (lambda site, data: None)
    for site in SITES:
        shutil.rmtree(OUT / site, ignore_errors=True)
    rows: list[dict] = []
    build_cn(rows)
    build_en(rows)
    build_forum(rows)
    with open(OUT / "gold.jsonl", "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    return rows


def main() -> None:
    rows = build()
    counts = {s: sum(r["site"] == s for r in rows) for s in SITES}
    print("wrote", len(rows), "gold documents:", counts)


if __name__ == "__main__":
    main()
