package banwave.deves;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import org.elasticsearch.cluster.service.ClusterService;
import org.elasticsearch.common.logging.LogConfigurator;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.node.DevNode;
import org.elasticsearch.node.InternalSettingsPreparer;
import org.elasticsearch.node.Node;
import org.elasticsearch.plugins.Plugin;
import org.elasticsearch.transport.netty4.Netty4Plugin;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Dev-only launcher: runs N real Elasticsearch nodes (N >= 1) inside this one JVM, bound to
 * 127.0.0.1, with plugins taken from the classpath: netty4 (real HTTP/transport), CjkAnalysisPlugin and
 * EnglishAnalysisPlugin
 * (the "cjk" and "english" analyzers) and RestRootPlugin (GET /). No security, no x-pack, no other modules.
 * Started and stopped by deploy/dev-es/es.sh.
 *
 * <pre>
 * java -cp ... banwave.deves.DevCluster --home DIR --data DIR --nodes N --http-port P --transport-port T [--cluster-name NAME]
 * </pre>
 * Node i (0-based) is "dev-es-i", HTTP on P+i, transport on T+i, data in DATA/node-i.
 *
 * Control channel: an HTTP server on 127.0.0.1 (random port, written to HOME/ctl.port):
 * <pre>
 *   GET  /nodes           one line per node: "index name running|stopped httpPort"
 *   POST /nodes/I/stop    close node I (data stays on disk)
 *   POST /nodes/I/start   start node I again (same settings and data, so it rejoins)
 *   POST /shutdown        close all nodes and exit (SIGTERM does the same)
 * </pre>
 */
public final class DevCluster {

    private static final Map<String, Class<? extends Plugin>> PLUGINS = new LinkedHashMap<>();
    static {
        PLUGINS.put("transport-netty4", Netty4Plugin.class);
        PLUGINS.put("banwave-cjk-analysis", CjkAnalysisPlugin.class);
        PLUGINS.put("banwave-english-analysis", EnglishAnalysisPlugin.class);
        PLUGINS.put("banwave-rest-root", RestRootPlugin.class);
    }

    private final Path home;
    private final Settings[] nodeSettings;
    private final Node[] nodes; // null = not running
    private final Object[] locks;

    private DevCluster(Path home, Settings[] nodeSettings) {
        this.home = home;
        this.nodeSettings = nodeSettings;
        this.nodes = new Node[nodeSettings.length];
        this.locks = new Object[nodeSettings.length];
        for (int i = 0; i < locks.length; i++) {
            locks[i] = new Object();
        }
    }

    public static void main(String[] argv) throws Exception {
        Map<String, String> a = parseArgs(argv);
        Path home = Path.of(a.get("home")).toAbsolutePath();
        Path data = Path.of(a.getOrDefault("data", home.resolve("data").toString())).toAbsolutePath();
        int n = Integer.parseInt(a.getOrDefault("nodes", "1"));
        int httpPort = Integer.parseInt(a.getOrDefault("http-port", "9200"));
        int transportPort = Integer.parseInt(a.getOrDefault("transport-port", "9300"));
        String clusterName = a.getOrDefault("cluster-name", "banwave-dev");

        // Several nodes share this JVM: don't let netty pin "available processors" per node.
        System.setProperty("es.set.netty.runtime.available.processors", "false");

        Files.createDirectories(home.resolve("config"));
        Files.createDirectories(home.resolve("logs"));
        Files.writeString(home.resolve("config/log4j2.properties"), LOG4J_CONFIG);

        List<String> names = new ArrayList<>();
        List<String> seeds = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            names.add("dev-es-" + i);
            seeds.add("127.0.0.1:" + (transportPort + i));
        }
        Settings[] settings = new Settings[n];
        for (int i = 0; i < n; i++) {
            Settings.Builder s = Settings.builder()
                .put("cluster.name", clusterName)
                .put("node.name", names.get(i))
                .put("path.home", home.toString())
                .put("path.data", data.resolve("node-" + i).toString())
                .put("path.logs", home.resolve("logs").toString())
                .put("network.host", "127.0.0.1")
                .put("http.port", httpPort + i)
                .put("transport.port", transportPort + i)
                // dev box: never go read-only because the disk is nearly full
                .put("cluster.routing.allocation.disk.threshold_enabled", false)
                // allow DELETE /_all, DELETE /idx-* in tests
                .put("action.destructive_requires_name", false);
            if (n == 1) {
                s.put("discovery.type", "single-node");
            } else {
                s.putList("discovery.seed_hosts", seeds);
                // cluster.initial_master_nodes: see settingsForStart()
            }
            settings[i] = s.build();
        }

        // Logging: ES's own configurator, reading HOME/config/log4j2.properties (console -> es.sh's log file).
        LogConfigurator.registerErrorListener();
        LogConfigurator.setClusterName(clusterName);
        LogConfigurator.setNodeName(n == 1 ? names.get(0) : "dev-es");
        LogConfigurator.configure(environment(settings[0], home), true);

        DevCluster cluster = new DevCluster(home, settings);
        Runtime.getRuntime().addShutdownHook(new Thread(cluster::closeAll, "dev-es-shutdown"));
        cluster.startControlServer();

        // Start all nodes in parallel: a node's start() waits for the cluster to form,
        // which needs a quorum of the master-eligible nodes.
        List<Thread> starters = new ArrayList<>();
        List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        for (int i = 0; i < n; i++) {
            final int idx = i;
            Thread t = new Thread(() -> {
                try {
                    cluster.startNode(idx);
                } catch (Throwable e) {
                    failures.add(e);
                }
            }, "elasticsearch[dev-es-" + i + "][starter]"); // log pattern shows the node name
            t.start();
            starters.add(t);
        }
        for (Thread t : starters) {
            t.join();
        }
        if (failures.isEmpty() == false) {
            for (Throwable e : failures) {
                e.printStackTrace(); // System.err goes through log4j into the log file
            }
            System.err.println("dev-es: node startup failed: " + failures.get(0));
            System.exit(1); // shutdown hook closes whatever did start
        }
        System.out.println("dev-es: " + n + " node(s) started, http://127.0.0.1:" + httpPort);
        if (n > 1) {
            cluster.markBootstrapped();
        }
        // ES threads are daemons (the real bootstrap has a keep-alive thread too): park main
        // forever; SIGTERM or POST /shutdown end the JVM and the shutdown hook closes the nodes.
        new java.util.concurrent.CountDownLatch(1).await();
    }

    private static Environment environment(Settings s, Path home) {
        return InternalSettingsPreparer.prepareEnvironment(s, Map.of(), home.resolve("config"), () -> s.get("node.name"));
    }

    /**
     * Multi-node clusters bootstrap via cluster.initial_master_nodes, which ES wants set only until the
     * cluster has formed (it warns otherwise). A node that has persisted cluster state (restart,
     * node-start) rejoins through discovery.seed_hosts instead. "Formed" = the marker file written by
     * markBootstrapped() once a node has seen a committed cluster UUID.
     */
    private Settings settingsForStart(int i) {
        Settings s = nodeSettings[i];
        if (nodes.length == 1 || Files.exists(bootstrappedMarker())) {
            return s;
        }
        List<String> names = new ArrayList<>();
        for (Settings other : nodeSettings) {
            names.add(other.get("node.name"));
        }
        return Settings.builder().put(s).putList("cluster.initial_master_nodes", names).build();
    }

    private Path bootstrappedMarker() {
        return Path.of(nodeSettings[0].get("path.data")).getParent().resolve("cluster-formed");
    }

    private void markBootstrapped() throws Exception {
        for (int tries = 0; tries < 600 && Files.exists(bootstrappedMarker()) == false; tries++) {
            for (Node node : nodes) {
                if (node != null && node.injector().getInstance(ClusterService.class).state().metadata().clusterUUIDCommitted()) {
                    Files.writeString(bootstrappedMarker(), "cluster bootstrapped; initial_master_nodes no longer set\n");
                    return;
                }
            }
            Thread.sleep(100);
        }
    }

    /** Builds and starts node i; blocks until it has joined (or formed) the cluster. */
    private void startNode(int i) throws Exception {
        synchronized (locks[i]) { // one lock per node: nodes must be able to start concurrently
            if (nodes[i] != null) {
                throw new IllegalStateException("node " + i + " is already running");
            }
            Node node = new DevNode(environment(settingsForStart(i), home), PLUGINS);
            nodes[i] = node;
            try {
                node.start();
            } catch (Exception | Error e) {
                nodes[i] = null;
                closeNode(node);
                throw e;
            }
        }
    }

    private void stopNode(int i) {
        synchronized (locks[i]) {
            Node node = nodes[i];
            if (node == null) {
                throw new IllegalStateException("node " + i + " is not running");
            }
            nodes[i] = null;
            closeNode(node);
        }
    }

    private static void closeNode(Node node) {
        try {
            node.prepareForClose();
            node.close();
            if (node.awaitClose(30, TimeUnit.SECONDS) == false) {
                System.err.println("dev-es: node did not close within 30s");
            }
        } catch (Exception e) {
            e.printStackTrace();
        }
    }

    private void closeAll() {
        List<Thread> closers = new ArrayList<>();
        for (int i = 0; i < nodes.length; i++) {
            Node node = nodes[i];
            nodes[i] = null;
            if (node != null) {
                Thread t = new Thread(() -> closeNode(node), "elasticsearch[dev-es-" + i + "][closer]");
                t.start();
                closers.add(t);
            }
        }
        for (Thread t : closers) {
            try {
                t.join(60_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void startControlServer() throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.setExecutor(java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "dev-es-control");
            t.setDaemon(true);
            return t;
        }));
        server.start();
        Files.writeString(home.resolve("ctl.port"), server.getAddress().getPort() + "\n");
    }

    private void handle(HttpExchange ex) throws IOException {
        String[] parts = ex.getRequestURI().getPath().replaceAll("^/+|/+$", "").split("/");
        String method = ex.getRequestMethod();
        int code = 200;
        String body;
        try {
            if (parts.length == 1 && parts[0].equals("nodes") && method.equals("GET")) {
                StringBuilder sb = new StringBuilder();
                for (int i = 0; i < nodes.length; i++) {
                    sb.append(i).append(' ').append(nodeSettings[i].get("node.name")).append(' ')
                        .append(nodes[i] == null ? "stopped" : "running").append(' ')
                        .append(nodeSettings[i].get("http.port")).append('\n');
                }
                body = sb.toString();
            } else if (parts.length == 3 && parts[0].equals("nodes") && method.equals("POST")) {
                int i = Integer.parseInt(parts[1]);
                if (i < 0 || i >= nodes.length) {
                    throw new IllegalArgumentException("no node " + i + " (nodes are 0.." + (nodes.length - 1) + ")");
                }
                switch (parts[2]) {
                    case "stop" -> stopNode(i);
                    case "start" -> startNode(i);
                    default -> throw new IllegalArgumentException("unknown action " + parts[2]);
                }
                body = "ok\n";
            } else if (parts.length == 1 && parts[0].equals("shutdown") && method.equals("POST")) {
                body = "ok\n";
                new Thread(() -> System.exit(0), "dev-es-exit").start(); // shutdown hook closes the nodes
            } else {
                code = 404;
                body = "unknown control request " + method + " " + ex.getRequestURI() + "\n";
            }
        } catch (IllegalArgumentException | IllegalStateException e) {
            code = 409;
            body = e.getMessage() + "\n";
        } catch (Exception e) {
            code = 500;
            body = e + "\n";
        }
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.sendResponseHeaders(code, bytes.length);
        try (OutputStream os = ex.getResponseBody()) {
            os.write(bytes);
        }
    }

    private static Map<String, String> parseArgs(String[] argv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < argv.length; i++) {
            if (argv[i].startsWith("--") == false || i + 1 >= argv.length) {
                throw new IllegalArgumentException("usage: --home DIR [--data DIR] [--nodes N] [--http-port P] "
                    + "[--transport-port T] [--cluster-name NAME]");
            }
            m.put(argv[i].substring(2), argv[++i]);
        }
        if (m.containsKey("home") == false) {
            throw new IllegalArgumentException("--home is required");
        }
        return m;
    }

    // Console only; es.sh redirects stdout/stderr to HOME/es.log. The thread name carries the
    // node name ("elasticsearch[dev-es-1][...]"), so show just that part.
    private static final String LOG4J_CONFIG = """
        status = error
        appender.console.type = Console
        appender.console.name = console
        appender.console.layout.type = PatternLayout
        appender.console.layout.pattern = [%d{ISO8601}][%-5p][%-30c{1.}] [%replace{%t}{^elasticsearch\\\\[([^\\\\]]+)\\\\].*$}{$1}] %m%n
        rootLogger.level = info
        rootLogger.appenderRef.console.ref = console
        """;
}
