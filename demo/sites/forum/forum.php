<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=gbk" />
<title>论坛 -  跨境卖家圈 -  Powered by Discuz!</title>
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
<div id="pt" class="bm cl"><div class="z"><a href="forum.php" class="nvhm">跨境卖家圈</a> <em>&rsaquo;</em> 论坛</div></div>
<div class="fl bm"><table class="fl_tb"><tr><td class="fl_g"><h2><a href="forum-38-1.html">亚马逊卖家交流</a></h2></td></tr><tr><td class="fl_g"><h2><a href="forum-39-1.html">跨境杂谈</a></h2></td></tr><tr><td class="fl_g"><h2><a href="forum-40-1.html">站务公告</a></h2></td></tr><tr><td class="fl_g"><h2><a href="forum-41-1.html">物流与费用</a></h2></td></tr></table></div>
</div>
<div id="ft" class="wp cl"><div id="flk" class="y"><p><a href="forum.php?mobile=yes">手机版</a>|<a href="forum.php?mod=misc&amp;action=showdarkroom">小黑屋</a>|<strong><a href="forum.php">跨境卖家圈</a></strong></p></div>
<div id="frt"><p>Powered by <strong><a href="http://www.discuz.net" target="_blank">Discuz!</a></strong> <em>X3.4</em></p><p class="xs0">&copy; 2001-2021 Comsenz Inc.</p></div></div>
</body>
</html>
