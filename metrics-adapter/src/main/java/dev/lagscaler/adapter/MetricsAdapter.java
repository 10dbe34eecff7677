package dev.lagscaler.adapter;

import dev.lagscaler.tls.Pki;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.util.Config;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * The metrics adapter process: a {@link MetricStore} fed by the scaler's gRPC stream and served over HTTPS as
 * external.metrics.k8s.io. Also runs inside the scaler's JVM for the local demo and tests.
 *
 * <p>{@code main} flags: {@code --port=6443 --feed=host:port [--cert=file --key=file] [--kubeconfig=file]}; without
 * a certificate it makes a self-signed one (development only; the APIService then needs that CA).
 */
public final class MetricsAdapter implements AutoCloseable {
    private final Vertx vertx;
    private final MetricStore store;
    private final FeedSubscriber feed;
    private final ExternalMetricsServer server;

    private MetricsAdapter(Vertx vertx, MetricStore store, FeedSubscriber feed, ExternalMetricsServer server) {
        this.vertx = vertx;
        this.store = store;
        this.feed = feed;
        this.server = server;
    }

    public static MetricsAdapter start(ApiClient client, String feedHost, int feedPort,
                                       ExternalMetricsServer.Options options) throws Exception {
        Vertx vertx = Vertx.vertx();
        MetricStore store = new MetricStore();
        FeedSubscriber feed = new FeedSubscriber(vertx, feedHost, feedPort, store, "adapter-" + ProcessHandle.current().pid());
        feed.start();
        try {
            ExternalMetricsServer server = ExternalMetricsServer.start(vertx, options, store, new KubernetesAccess(client));
            return new MetricsAdapter(vertx, store, feed, server);
        } catch (Exception e) {
            feed.close();
            vertx.close();
            throw e;
        }
    }

    public int port() {
        return server.port();
    }

    public MetricStore store() {
        return store;
    }

    @Override
    public void close() {
        server.close();
        feed.close();
        vertx.close().await();
    }

    public static void main(String[] args) throws Exception {
        int port = 6443;
        String feed = "127.0.0.1:9090";
        String cert = null;
        String key = null;
        String kubeconfig = null;
        for (String arg : args) {
            String value = arg.substring(arg.indexOf('=') + 1);
            if (arg.startsWith("--port=")) {
                port = Integer.parseInt(value);
            } else if (arg.startsWith("--feed=")) {
                feed = value;
            } else if (arg.startsWith("--cert=")) {
                cert = Files.readString(Path.of(value));
            } else if (arg.startsWith("--key=")) {
                key = Files.readString(Path.of(value));
            } else if (arg.startsWith("--kubeconfig=")) {
                kubeconfig = value;
            } else {
                System.err.println("unknown flag " + arg + "; use --port= --feed=host:port --cert= --key= --kubeconfig=");
                System.exit(2);
            }
        }
        if (cert == null || key == null) {
            Pki.Issued ca = Pki.ca("lagscaler-metrics-adapter-self-signed");
            Pki.Issued serving = Pki.server(ca, "lagscaler-metrics-adapter",
                    List.of("localhost", "lagscaler-metrics-adapter.lagscaler.svc"), List.of("127.0.0.1"));
            cert = serving.certificatePem();
            key = serving.privateKeyPem();
        }
        ApiClient client = kubeconfig == null ? Config.defaultClient() : Config.fromConfig(kubeconfig);
        int colon = feed.lastIndexOf(':');
        MetricsAdapter adapter = start(client, feed.substring(0, colon), Integer.parseInt(feed.substring(colon + 1)),
                new ExternalMetricsServer.Options("0.0.0.0", port, cert, key));
        Runtime.getRuntime().addShutdownHook(new Thread(adapter::close));
        new CountDownLatch(1).await();
    }
}
