package dev.lagscaler.adapter;

import dev.lagscaler.feed.FeedTls;
import io.kubernetes.client.openapi.ApiClient;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.net.SocketAddress;
import java.util.List;

/**
 * The metrics adapter process: a {@link MetricStore} fed by the scaler's gRPC stream and served over HTTPS as
 * external.metrics.k8s.io. {@link AdapterCommand} is its process entry point; the demo and tests also run it beside
 * the operator in one JVM.
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
        return start(client, List.of(SocketAddress.inetSocketAddress(feedPort, feedHost)), options);
    }

    /** An adapter that subscribes to whichever of {@code feeds} leads (see {@link FeedSubscriber}). */
    public static MetricsAdapter start(ApiClient client, List<SocketAddress> feeds, ExternalMetricsServer.Options options)
            throws Exception {
        return start(client, feeds, options, new AdapterMetrics(new PrometheusRegistry()));
    }

    /** The same, recording its Prometheus metrics into {@code metrics}. */
    public static MetricsAdapter start(ApiClient client, List<SocketAddress> feeds, ExternalMetricsServer.Options options,
                                       AdapterMetrics metrics) throws Exception {
        return start(client, feeds, options, metrics, null);
    }

    /** The same, subscribing over mutual TLS with {@code feedTls} (null: plaintext, local runs only). */
    public static MetricsAdapter start(ApiClient client, List<SocketAddress> feeds, ExternalMetricsServer.Options options,
                                       AdapterMetrics metrics, FeedTls feedTls) throws Exception {
        Vertx vertx = Vertx.vertx();
        MetricStore store = new MetricStore();
        metrics.watch(store);
        FeedSubscriber feed = new FeedSubscriber(vertx, feeds, store, "adapter-" + ProcessHandle.current().pid(),
                metrics::reconnect, feedTls);
        feed.start();
        try {
            ExternalMetricsServer server = ExternalMetricsServer.start(vertx, options, store, new KubernetesAccess(client),
                    metrics);
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
}
