package dev.lagscaler.lag.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.metrics.Metrics;
import org.apache.kafka.common.metrics.Sensor;
import org.apache.kafka.common.metrics.stats.CumulativeSum;
import org.junit.jupiter.api.Test;

class ClientMetricTest {
    @Test
    void readsTheClientWideMetricAndScansTheMapOnlyUntilItIsFound() {
        try (Metrics registry = new Metrics()) {
            AtomicInteger scans = new AtomicInteger();
            ClientMetric requests = new ClientMetric(() -> {
                scans.incrementAndGet();
                return registry.metrics();
            }, "consumer-metrics", "request-total");
            assertEquals(0, requests.value(), "not registered yet");
            assertEquals(0, requests.value());
            assertEquals(2, scans.get(), "looked for on each read while absent");

            // Per-partition entries of the same name in another group do not count.
            for (int p = 0; p < 50; p++) {
                Sensor partition = registry.sensor("partition-" + p);
                partition.add(registry.metricName("request-total", "consumer-fetch-manager-metrics",
                        Map.of("partition", Integer.toString(p))), new CumulativeSum());
                partition.record(1000);
            }
            Sensor client = registry.sensor("client");
            client.add(registry.metricName("request-total", "consumer-metrics"), new CumulativeSum());
            client.record(3);
            assertEquals(3, requests.value());
            client.record(4);
            assertEquals(7, requests.value(), "read from the entry found, as it counts on");
            assertEquals(3, scans.get(), "found once, never scanned again");
        }
    }

    @Test
    void sumsEveryEntryOfTheName() {
        try (Metrics registry = new Metrics()) {
            for (String node : new String[] {"a", "b"}) {
                Sensor s = registry.sensor(node);
                s.add(registry.metricName("connection-count", "admin-client-metrics", Map.of("node", node)),
                        new CumulativeSum());
                s.record(2);
            }
            Map<MetricName, ? extends Metric> metrics = registry.metrics();
            assertEquals(2, ClientMetric.find(metrics, "admin-client-metrics", "connection-count").size());
            assertEquals(4, new ClientMetric(() -> metrics, "admin-client-metrics", "connection-count").value());
        }
    }
}
