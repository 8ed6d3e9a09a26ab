package banwave.deves;

import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.cjk.CJKAnalyzer;
import org.apache.lucene.analysis.cjk.CJKBigramFilter;
import org.apache.lucene.analysis.cjk.CJKWidthFilter;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.index.analysis.AbstractIndexAnalyzerProvider;
import org.elasticsearch.index.analysis.AbstractTokenFilterFactory;
import org.elasticsearch.index.analysis.Analysis;
import org.elasticsearch.index.analysis.AnalyzerProvider;
import org.elasticsearch.index.analysis.PreBuiltAnalyzerProviderFactory;
import org.elasticsearch.index.analysis.PreConfiguredTokenFilter;
import org.elasticsearch.index.analysis.TokenFilterFactory;
import org.elasticsearch.indices.analysis.AnalysisModule.AnalysisProvider;
import org.elasticsearch.indices.analysis.PreBuiltCacheFactory.CachingStrategy;
import org.elasticsearch.plugins.AnalysisPlugin;
import org.elasticsearch.plugins.Plugin;

import java.util.List;
import java.util.Map;

/**
 * The CJK bits of ES's analysis-common module, which is not published to Maven Central:
 * <ul>
 *   <li>analyzer {@code cjk}: Lucene's CJKAnalyzer (default stop set; "stopwords" setting honoured),
 *       usable by name in mappings and as {@code "type": "cjk"} in index settings;</li>
 *   <li>token filter {@code cjk_bigram} (settings: ignored_scripts, output_unigrams);</li>
 *   <li>token filter {@code cjk_width}.</li>
 * </ul>
 * Registered the same way analysis-common does it, so mappings written for production work unchanged.
 */
public class CjkAnalysisPlugin extends Plugin implements AnalysisPlugin {

    /** Analyzer provider for {@code "type": "cjk"} / {@code "analyzer": "cjk"}. */
    static final class CjkAnalyzerProvider extends AbstractIndexAnalyzerProvider<CJKAnalyzer> {
        private final CJKAnalyzer analyzer;

        CjkAnalyzerProvider(org.elasticsearch.env.Environment env, String name, Settings settings) {
            super(name, settings);
            analyzer = new CJKAnalyzer(Analysis.parseStopWords(env, settings, CJKAnalyzer.getDefaultStopSet()));
        }

        @Override
        public CJKAnalyzer get() {
            return analyzer;
        }
    }

    @Override
    public Map<String, AnalysisProvider<AnalyzerProvider<? extends Analyzer>>> getAnalyzers() {
        return Map.of("cjk", (indexSettings, env, name, settings) -> new CjkAnalyzerProvider(env, name, settings));
    }

    @Override
    public List<PreBuiltAnalyzerProviderFactory> getPreBuiltAnalyzerProviderFactories() {
        // used when "cjk" is referenced without index-level settings (and by _analyze without an index)
        return List.of(new PreBuiltAnalyzerProviderFactory("cjk", CachingStrategy.LUCENE, CJKAnalyzer::new));
    }

    @Override
    public Map<String, AnalysisProvider<TokenFilterFactory>> getTokenFilters() {
        return Map.of("cjk_bigram", (indexSettings, env, name, settings) -> {
            int flags = 0;
            List<String> ignored = settings.getAsList("ignored_scripts");
            if (ignored.contains("han") == false) flags |= CJKBigramFilter.HAN;
            if (ignored.contains("hiragana") == false) flags |= CJKBigramFilter.HIRAGANA;
            if (ignored.contains("katakana") == false) flags |= CJKBigramFilter.KATAKANA;
            if (ignored.contains("hangul") == false) flags |= CJKBigramFilter.HANGUL;
            final int f = flags;
            final boolean unigrams = settings.getAsBoolean("output_unigrams", false);
            return new AbstractTokenFilterFactory(name, settings) {
                @Override
                public TokenStream create(TokenStream in) {
                    return new CJKBigramFilter(in, f, unigrams);
                }
            };
        }, "cjk_width", (indexSettings, env, name, settings) -> new AbstractTokenFilterFactory(name, settings) {
            @Override
            public TokenStream create(TokenStream in) {
                return new CJKWidthFilter(in);
            }
        });
    }

    @Override
    public List<PreConfiguredTokenFilter> getPreConfiguredTokenFilters() {
        return List.of(
            PreConfiguredTokenFilter.singleton("cjk_bigram", false, CJKBigramFilter::new),
            PreConfiguredTokenFilter.singleton("cjk_width", true, CJKWidthFilter::new)
        );
    }
}
