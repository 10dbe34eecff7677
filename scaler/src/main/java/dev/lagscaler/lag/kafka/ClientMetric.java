package dev.lagscaler.lag.kafka;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;

/**
 * One client-wide metric of a Kafka client (a consumer's {@code consumer-metrics}, an Admin's
 * {@code admin-client-metrics}), found in the client's metrics once and read directly from then on. A client's
 * metrics hold entries per node and, for a consumer, per assigned partition: the wake-up consumer on 3,000 partitions
 * has tens of thousands, and scanning them after every fetch was most of its CPU while records arrived everywhere.
 */
final class ClientMetric {
    private final Supplier<Map<MetricName, ? extends Metric>> metrics;
    private final String group;
    private final String name;
    private volatile List<Metric> found;

    ClientMetric(Supplier<Map<MetricName, ? extends Metric>> metrics, String group, String name) {
        this.metrics = metrics;
        this.group = group;
        this.name = name;
    }

    /** The metric's value, summed over its entries (0 while the client has not registered it yet). */
    double value() {
        List<Metric> entries = found;
        if (entries == null) {
            entries = find(metrics.get(), group, name);
            if (entries.isEmpty()) {
                return 0; // looked for again next time
            }
            found = entries;
        }
        return sum(entries);
    }

    /** The entries of metric {@code name} in {@code group}, scanning {@code metrics} once. */
    static List<Metric> find(Map<MetricName, ? extends Metric> metrics, String group, String name) {
        List<Metric> entries = new ArrayList<>(1);
        for (Map.Entry<MetricName, ? extends Metric> e : metrics.entrySet()) {
            if (e.getKey().name().equals(name) && e.getKey().group().equals(group)) {
                entries.add(e.getValue());
            }
        }
        return entries;
    }

    static double sum(List<Metric> entries) {
        double total = 0;
        for (Metric m : entries) {
            if (m.metricValue() instanceof Number n) {
                total += n.doubleValue();
            }
        }
        return total;
    }
}
