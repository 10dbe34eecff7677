package dev.lagscaler.e2e;

import dev.lagscaler.adapter.AdapterMetrics;
import dev.lagscaler.adapter.ExternalMetricsServer;
import dev.lagscaler.adapter.MetricsAdapter;
import dev.lagscaler.controller.Operator;
import dev.lagscaler.controller.OperatorConfig;
import dev.lagscaler.lag.kafka.LagEngine;
import dev.lagscaler.metrics.MetricsFeedServer;
import dev.lagscaler.metrics.OperatorMetrics;
import dev.lagscaler.testing.LocalControlPlane;
import dev.lagscaler.tls.Pki;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.vertx.core.net.SocketAddress;
import java.util.List;

/**
 * What the real HPA reads through: an in-process operator (its own lag engine), the metrics adapter fed by it over
 * the gRPC feed, registered as the control plane's {@code external.metrics.k8s.io}. Closing unregisters it and
 * stops everything.
 */
final class HpaStack implements AutoCloseable {
    private final LocalControlPlane plane;
    private final MetricsFeedServer feed;
    private final LagEngine engine;
    private final Operator operator;
    private final MetricsAdapter adapter;

    private HpaStack(LocalControlPlane plane, MetricsFeedServer feed, LagEngine engine, Operator operator,
                     MetricsAdapter adapter) {
        this.plane = plane;
        this.feed = feed;
        this.engine = engine;
        this.operator = operator;
        this.adapter = adapter;
    }

    /** Starts the stack; {@code name} names the operator and its Lease namespace. */
    static HpaStack start(LocalControlPlane plane, String name, LagEngine.Options engineOptions) throws Exception {
        return start(plane, name, engineOptions, new OperatorMetrics(new PrometheusRegistry(), false),
                new AdapterMetrics(new PrometheusRegistry()));
    }

    /** The same, the operator and the adapter recording their Prometheus metrics into the given ones. */
    static HpaStack start(LocalControlPlane plane, String name, LagEngine.Options engineOptions,
                          OperatorMetrics operatorMetrics, AdapterMetrics adapterMetrics) throws Exception {
        Pki.Issued ca = Pki.ca(name + "-adapter-ca");
        Pki.Issued serving = ExternalMetricsEndToEndTest.adapterCertificate(ca);
        var client = plane.apiClient();
        client.setReadTimeout(0);
        MetricsFeedServer feed = MetricsFeedServer.start("127.0.0.1", 0);
        LagEngine engine = new LagEngine(engineOptions);
        Operator operator = new Operator(client, client, engine, OperatorConfig.defaults(name + "-operator")
                .withNamespace("lagscaler-" + name), feed, operatorMetrics);
        MetricsAdapter adapter = MetricsAdapter.start(plane.apiClient(),
                List.of(SocketAddress.inetSocketAddress(feed.port(), "127.0.0.1")),
                new ExternalMetricsServer.Options("127.0.0.1", 0, serving.certificatePem(), serving.privateKeyPem()),
                adapterMetrics);
        HpaStack stack = new HpaStack(plane, feed, engine, operator, adapter);
        operator.start();
        plane.registerExternalMetrics(adapter.port(), ca.certificatePem());
        return stack;
    }

    @Override
    public void close() throws Exception {
        try {
            plane.unregisterExternalMetrics();
        } finally {
            adapter.close();
            operator.close();
            engine.close();
            feed.close();
        }
    }
}
