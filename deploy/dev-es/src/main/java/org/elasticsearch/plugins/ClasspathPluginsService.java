package org.elasticsearch.plugins;

// Lives in org.elasticsearch.plugins because LoadedPlugin, PluginsLoader's
// constructor, loadPlugin() and createExtension() are package-private.
// (Classpath, not module path, so the split package is allowed.)

import org.elasticsearch.Build;
import org.elasticsearch.action.admin.cluster.node.info.PluginsAndModules;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.plugins.spi.SPIClassIterator;

import java.lang.reflect.Constructor;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A PluginsService whose plugins are plain classes on the JVM classpath
 * (instead of bundles under $ES_HOME/modules and plugins). Same idea as the
 * test framework's MockPluginsService, without the test-framework dependency.
 */
public class ClasspathPluginsService extends PluginsService {

    private final List<LoadedPlugin> loaded;

    /** @param plugins plugin name -> plugin class (name shows up in GET _cat/plugins) */
    public ClasspathPluginsService(Environment env, Map<String, Class<? extends Plugin>> plugins) {
        // empty loader: nothing is read from modules/ or plugins/
        super(env.settings(), env.configDir(), new PluginsLoader(Set.of(), Set.of(), Map.of()));
        List<LoadedPlugin> list = new ArrayList<>();
        for (Map.Entry<String, Class<? extends Plugin>> e : plugins.entrySet()) {
            Plugin instance = loadPlugin(e.getValue(), env.settings(), env.configDir());
            PluginDescriptor descriptor = new PluginDescriptor(
                e.getKey(), "classpath plugin (banwave dev-es)", Build.current().version(), Build.current().version(),
                Integer.toString(Runtime.version().feature()), e.getValue().getName(), null, List.of(),
                false, false, false, false
            );
            list.add(new LoadedPlugin(descriptor, instance, ClasspathPluginsService.class.getClassLoader()));
        }
        loadExtensions(list);
        this.loaded = List.copyOf(list);
    }

    @Override
    protected final List<LoadedPlugin> plugins() {
        return loaded;
    }

    @Override
    public PluginsAndModules info() {
        return new PluginsAndModules(loaded.stream().map(LoadedPlugin::descriptor).map(PluginRuntimeInfo::new).toList(), List.of());
    }

    /**
     * All plugins share one class loader, so the stock implementation would find every
     * META-INF/services entry (e.g. the server's FeatureSpecifications) once per plugin
     * and register duplicates. Create each provider class once instead; skip providers
     * whose one-arg constructor wants a different plugin type.
     */
    @Override
    public <T> List<? extends T> loadServiceProviders(Class<T> service) {
        Map<Class<?>, T> result = new LinkedHashMap<>();
        for (LoadedPlugin p : loaded) {
            Iterator<Class<? extends T>> it = SPIClassIterator.get(service, p.instance().getClass().getClassLoader());
            while (it.hasNext()) {
                Class<? extends T> c = it.next();
                if (result.containsKey(c) || wantsOtherPlugin(c, p.instance())) {
                    continue;
                }
                result.put(c, createExtension(c, service, p.instance()));
            }
        }
        return List.copyOf(result.values());
    }

    private static boolean wantsOtherPlugin(Class<?> c, Plugin plugin) {
        for (Constructor<?> k : c.getConstructors()) {
            if (k.getParameterCount() == 1 && k.getParameterTypes()[0] != plugin.getClass()) {
                return true;
            }
        }
        return false;
    }
}
