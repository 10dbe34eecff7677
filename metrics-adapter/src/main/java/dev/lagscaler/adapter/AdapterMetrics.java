package dev.lagscaler.adapter;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The adapter's Prometheus metrics: requests by HTTP code and their latency, the feed's state, and how old each
 * served value is (a value older than its staleness bound is answered with an error, so the HPA holds).
 */
public final class AdapterMetrics {
    private final PrometheusRegistry registry;
    private final Counter requests;
    private final Histogram latency;
    private final Counter reconnects;

    public AdapterMetrics(PrometheusRegistry registry) {
        this.registry = registry;
        requests = Counter.builder().name("lagscaler_adapter_requests_total")
                .help("external.metrics.k8s.io requests by HTTP status code and protocol (HTTP/1.1, HTTP/2)")
                .labelNames("code", "protocol").register(registry);
        latency = Histogram.builder().name("lagscaler_adapter_request_duration_seconds")
                .help("From a request's arrival to its response's end (authentication and authorization included)")
                .classicUpperBounds(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1).classicOnly()
                .register(registry);
        reconnects = Counter.builder().name("lagscaler_adapter_feed_reconnects_total")
                .help("Times the stream from the operator's feed was lost and retried").register(registry);
    }

    public PrometheusRegistry registry() {
        return registry;
    }

    /** The store's state, read at scrape time. */
    void watch(MetricStore store) {
        GaugeWithCallback.builder().name("lagscaler_adapter_feed_synced")
                .help("1 while the adapter holds a leader's full snapshot and its stream is open (it is then ready)")
                .callback(cb -> cb.call(store.synced() ? 1 : 0)).register(registry);
        GaugeWithCallback.builder().name("lagscaler_adapter_metrics").help("Metrics the adapter serves")
                .callback(cb -> cb.call(store.size())).register(registry);
        GaugeWithCallback.builder().name("lagscaler_adapter_value_age_seconds")
                .help("Age of each served value since the operator measured it")
                .labelNames("namespace", "scaledobject", "metric")
                .callback(cb -> {
                    Instant now = Instant.now();
                    store.forEach((namespace, scaledObject, metric, value) -> cb.call(
                            Duration.between(value.timestamp(), now).toMillis() / 1000.0, namespace, scaledObject, metric));
                }).register(registry);
    }

    private static final String[] PROTOCOLS = {"HTTP/1.0", "HTTP/1.1", "HTTP/2"};
    /** The counters' series by protocol and code, looked up once each (a label lookup builds a list per call). */
    private final AtomicReferenceArray<CounterDataPoint> series = new AtomicReferenceArray<>(PROTOCOLS.length * 600);

    void request(int code, io.vertx.core.http.HttpVersion version, long tookNanos) {
        int protocol = version == io.vertx.core.http.HttpVersion.HTTP_2 ? 2 : version == io.vertx.core.http.HttpVersion.HTTP_1_0 ? 0 : 1;
        int slot = code >= 100 && code < 600 ? protocol * 600 + code : -1;
        CounterDataPoint counter = slot < 0 ? null : series.get(slot);
        if (counter == null) {
            counter = requests.labelValues(Integer.toString(code), PROTOCOLS[protocol]);
            if (slot >= 0) {
                series.set(slot, counter);
            }
        }
        counter.inc();
        latency.observe(tookNanos / 1e9);
    }

    void reconnect() {
        reconnects.inc();
    }
}
