package dev.lagscaler.adapter;

import dev.lagscaler.feed.v1.MetricUpdate;
import java.time.Instant;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The adapter's memory: the latest value of every (namespace, ScaledObject, metric), as the scaler's feed reported
 * it. HPA requests are answered from here and never wait on the scaler or Kafka.
 */
public final class MetricStore {
    /** One metric's latest report; {@code error} is null for a value. */
    public record Value(long valueMilli, Instant timestamp, String error, long staleAfterMillis, boolean fallback) {
        public boolean staleAt(Instant now) {
            return staleAfterMillis > 0 && timestamp.plusMillis(staleAfterMillis).isBefore(now);
        }
    }

    private final Map<String, Value> values = new ConcurrentHashMap<>();
    private final Set<String> seenInSnapshot = ConcurrentHashMap.newKeySet();
    private volatile boolean synced;

    public void apply(MetricUpdate u) {
        if (u.getSnapshotDone()) {
            // A full resync: whatever the new snapshot did not mention is gone.
            values.keySet().retainAll(new HashSet<>(seenInSnapshot));
            seenInSnapshot.clear();
            synced = true;
            return;
        }
        String key = key(u.getNamespace(), u.getScaledObject(), u.getMetricName());
        if (u.getRemoved()) {
            values.remove(key);
            return;
        }
        seenInSnapshot.add(key);
        values.put(key, new Value(u.getValueMilli(), Instant.ofEpochMilli(u.getTimestampMillis()),
                u.getError().isEmpty() ? null : u.getError(), u.getStaleAfterMillis(), u.getFallback()));
    }

    /** A new subscription starts: the values it sends until snapshot_done are the whole truth. */
    public void resyncStarting() {
        seenInSnapshot.clear();
    }

    /**
     * The stream to the scaler ended: not ready until the next snapshot. The values stay and age out by their own
     * staleness into errors, so the HPA holds instead of acting on a guess.
     */
    public void connectionLost() {
        synced = false;
    }

    public Value get(String namespace, String scaledObject, String metric) {
        Value v = values.get(key(namespace, scaledObject, metric));
        if (v == null) {
            // Metric names are matched without regard to case, as Kubernetes resource names are lower case.
            for (Map.Entry<String, Value> e : values.entrySet()) {
                if (e.getKey().equalsIgnoreCase(key(namespace, scaledObject, metric))) {
                    return e.getValue();
                }
            }
        }
        return v;
    }

    public boolean knowsScaledObject(String namespace, String scaledObject) {
        String prefix = namespace + "/" + scaledObject + "/";
        return values.keySet().stream().anyMatch(k -> k.startsWith(prefix));
    }

    public Set<String> metricNames() {
        Set<String> names = new java.util.TreeSet<>();
        values.keySet().forEach(k -> names.add(k.substring(k.lastIndexOf('/') + 1)));
        return names;
    }

    /** Visits every value with its namespace, ScaledObject and metric name. */
    public void forEach(Visitor visitor) {
        values.forEach((key, value) -> {
            String[] parts = key.split("/", 3);
            visitor.visit(parts[0], parts[1], parts[2], value);
        });
    }

    /** What {@link #forEach} calls. */
    public interface Visitor {
        void visit(String namespace, String scaledObject, String metric, Value value);
    }

    public boolean synced() {
        return synced;
    }

    public int size() {
        return values.size();
    }

    private static String key(String namespace, String scaledObject, String metric) {
        return namespace + "/" + scaledObject + "/" + metric;
    }
}
