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
    private final List<FeedSubscriber> feeds;
    private final ExternalMetricsServer server;

    private MetricsAdapter(Vertx vertx, MetricStore store, List<FeedSubscriber> feeds, ExternalMetricsServer server) {
        this.vertx = vertx;
        this.store = store;
        this.feeds = feeds;
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
        return start(client, feeds, options, metrics, feedTls, false);
    }

    /**
     * With {@code sharded}, every one of {@code feeds} is a sharded operator replica serving its own objects' values:
     * the adapter subscribes to each at once and answers from all (one replica's loss makes only its values
     * unservable, until their new owner sends them). Otherwise it follows whichever of them leads.
     */
    public static MetricsAdapter start(ApiClient client, List<SocketAddress> feeds, ExternalMetricsServer.Options options,
                                       AdapterMetrics metrics, FeedTls feedTls, boolean sharded) throws Exception {
        Vertx vertx = Vertx.vertx();
        MetricStore store = new MetricStore();
        metrics.watch(store);
        String name = "adapter-" + ProcessHandle.current().pid();
        List<FeedSubscriber> subscribers = new java.util.ArrayList<>();
        if (sharded) {
            for (SocketAddress feed : feeds) {
                subscribers.add(new FeedSubscriber(vertx, List.of(feed), store, name, metrics::reconnect, feedTls,
                        feed.host() + ":" + feed.port()));
            }
        } else {
            subscribers.add(new FeedSubscriber(vertx, feeds, store, name, metrics::reconnect, feedTls));
        }
        subscribers.forEach(FeedSubscriber::start);
        try {
            ExternalMetricsServer server = ExternalMetricsServer.start(vertx, options, store, new KubernetesAccess(client),
                    metrics);
            return new MetricsAdapter(vertx, store, subscribers, server);
        } catch (Exception e) {
            subscribers.forEach(FeedSubscriber::close);
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
        feeds.forEach(FeedSubscriber::close);
        vertx.close().await();
    }
}
