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

    /**
     * Which metric: a record, so a lookup hashes three strings whose hashes they cache, and builds no string per
     * request.
     */
    public record Key(String namespace, String scaledObject, String metric) {
        boolean equalsIgnoringCase(Key other) {
            return namespace.equals(other.namespace) && scaledObject.equals(other.scaledObject)
                    && metric.equalsIgnoreCase(other.metric);
        }

        @Override
        public int hashCode() {
            return Hashes.of(namespace, scaledObject, metric);
        }
    }

    /**
     * Where one metric's latest value lives, replaced in place by each report, so a request that found it once reads
     * it again without a lookup. Emptied (null) when the metric goes: whoever holds it then looks the key up again.
     */
    public static final class Slot {
        private volatile Value value;

        public Value value() {
            return value;
        }
    }

    private final Map<Key, Slot> values = new ConcurrentHashMap<>();
    private final Set<Key> seenInSnapshot = ConcurrentHashMap.newKeySet();
    private volatile boolean synced;

    public void apply(MetricUpdate u) {
        if (u.getSnapshotDone()) {
            // A full resync: whatever the new snapshot did not mention is gone.
            Set<Key> seen = new HashSet<>(seenInSnapshot);
            values.entrySet().removeIf(e -> {
                boolean gone = !seen.contains(e.getKey());
                if (gone) {
                    e.getValue().value = null;
                }
                return gone;
            });
            seenInSnapshot.clear();
            synced = true;
            return;
        }
        Key key = new Key(u.getNamespace(), u.getScaledObject(), u.getMetricName());
        if (u.getRemoved()) {
            Slot gone = values.remove(key);
            if (gone != null) {
                gone.value = null;
            }
            return;
        }
        seenInSnapshot.add(key);
        values.computeIfAbsent(key, k -> new Slot()).value = new Value(u.getValueMilli(), Instant.ofEpochMilli(u.getTimestampMillis()),
                u.getError().isEmpty() ? null : u.getError(), u.getStaleAfterMillis(), u.getFallback());
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
        return get(new Key(namespace, scaledObject, metric));
    }

    public Value get(Key key) {
        Slot slot = slot(key);
        return slot == null ? null : slot.value();
    }

    /** Where the key's value lives, or null while the store has none. */
    public Slot slot(Key key) {
        Slot slot = values.get(key);
        if (slot == null) {
            // Metric names are matched without regard to case, as Kubernetes resource names are lower case.
            for (Map.Entry<Key, Slot> e : values.entrySet()) {
                if (e.getKey().equalsIgnoringCase(key)) {
                    return e.getValue();
                }
            }
        }
        return slot;
    }

    public boolean knowsScaledObject(String namespace, String scaledObject) {
        return values.keySet().stream().anyMatch(k -> k.namespace().equals(namespace) && k.scaledObject().equals(scaledObject));
    }

    public Set<String> metricNames() {
        Set<String> names = new java.util.TreeSet<>();
        values.keySet().forEach(k -> names.add(k.metric()));
        return names;
    }

    /** Visits every value with its namespace, ScaledObject and metric name. */
    public void forEach(Visitor visitor) {
        values.forEach((key, slot) -> {
            Value value = slot.value();
            if (value != null) {
                visitor.visit(key.namespace(), key.scaledObject(), key.metric(), value);
            }
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
}
