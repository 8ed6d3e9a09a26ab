package org.elasticsearch.node;

// Lives in org.elasticsearch.node because Node(NodeConstruction),
// NodeConstruction.prepareConstruction() and NodeServiceProvider are package-private.

import org.elasticsearch.cluster.service.ClusterService;
import org.elasticsearch.env.Environment;
import org.elasticsearch.plugins.ClasspathPluginsService;
import org.elasticsearch.plugins.Plugin;
import org.elasticsearch.plugins.PluginsLoader;
import org.elasticsearch.plugins.PluginsService;

import java.util.Map;

/** A real ES node whose plugins come from the classpath (see ClasspathPluginsService). */
public class DevNode extends Node {

    public DevNode(Environment env, Map<String, Class<? extends Plugin>> plugins) {
        super(NodeConstruction.prepareConstruction(env, null, new NodeServiceProvider() {
            @Override
            PluginsService newPluginService(Environment environment, PluginsLoader ignored) {
                return new ClasspathPluginsService(environment, plugins);
            }
        }, true));
    }

    @Override
    protected void configureNodeAndClusterIdStateListener(ClusterService clusterService) {
        // The stock listener fills a JVM-wide SetOnce (node/cluster id for log lines);
        // with several nodes, or a node restarted, in one JVM that would throw. Skip it.
    }
}
