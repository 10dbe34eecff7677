package dev.lagscaler.adapter;

import dev.lagscaler.feed.v1.MetricUpdate;
import java.time.Instant;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The adapter's memory: the latest value of every (namespace, ScaledObject, metric), as the scaler's feed reported
 * it. HPA requests are answered from here and never wait on the scaler or Kafka. Values come from one or more
 * sources: the leader's feed ({@link #LEADER}), or each sharded operator replica's own. A value is served while the
 * source that sent it is connected; when objects move between shards, the newer value wins, and a source's removal
 * or resync touches only the values it sent.
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
        private volatile String source;

        public Value value() {
            return value;
        }
    }

    /** The source of a single leader's feed (whichever replica leads). */
    public static final String LEADER = "leader";

    private final Map<Key, Slot> values = new ConcurrentHashMap<>();
    private final Map<String, Source> sources = new ConcurrentHashMap<>();

    /** One feed: what its current snapshot has mentioned, and whether it is connected and synced. */
    private static final class Source {
        final Set<Key> seenInSnapshot = ConcurrentHashMap.newKeySet();
        volatile boolean synced;
    }

    /** Counts {@code source} among the feeds this store waits for (before its first connection). */
    public void addSource(String source) {
        sources.computeIfAbsent(source, k -> new Source());
    }

    public void apply(MetricUpdate u) {
        apply(LEADER, u);
    }

    public void apply(String sourceName, MetricUpdate u) {
        Source source = sources.computeIfAbsent(sourceName, k -> new Source());
        if (u.getSnapshotDone()) {
            // A full resync: whatever the new snapshot did not mention, of what this source sent, is gone.
            Set<Key> seen = new HashSet<>(source.seenInSnapshot);
            values.entrySet().removeIf(e -> {
                boolean gone = sourceName.equals(e.getValue().source) && !seen.contains(e.getKey());
                if (gone) {
                    e.getValue().value = null;
                }
                return gone;
            });
            source.seenInSnapshot.clear();
            source.synced = true;
            return;
        }
        Key key = new Key(u.getNamespace(), u.getScaledObject(), u.getMetricName());
        if (u.getRemoved()) {
            // A shard that gave the object away says so; the value another shard sent since stays.
            Slot slot = values.get(key);
            if (slot != null && sourceName.equals(slot.source) && values.remove(key, slot)) {
                slot.value = null;
            }
            return;
        }
        source.seenInSnapshot.add(key);
        Value value = new Value(u.getValueMilli(), Instant.ofEpochMilli(u.getTimestampMillis()),
                u.getError().isEmpty() ? null : u.getError(), u.getStaleAfterMillis(), u.getFallback());
        Slot slot = values.computeIfAbsent(key, k -> new Slot());
        synchronized (slot) {
            Value before = slot.value;
            if (before == null || sourceName.equals(slot.source) || !value.timestamp().isBefore(before.timestamp())) {
                slot.source = sourceName;
                slot.value = value;
            }
        }
    }

    /** A new subscription of {@code source} starts: the values it sends until snapshot_done are its whole truth. */
    public void resyncStarting(String source) {
        sources.computeIfAbsent(source, k -> new Source()).seenInSnapshot.clear();
    }

    /**
     * The stream from {@code source} ended: its values are not served until its next snapshot (or until another
     * shard sends them). They stay and age out by their own staleness into errors, so the HPA holds instead of acting
     * on a guess.
     */
    public void connectionLost(String source) {
        sources.computeIfAbsent(source, k -> new Source()).synced = false;
    }

    /** Whether the value in {@code slot} comes from a feed that is connected and synced. */
    public boolean servable(Slot slot) {
        Source source = slot.source == null ? null : sources.get(slot.source);
        return source != null && source.synced;
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

    /** Every feed connected and synced: an unknown metric is then unknown, not merely not yet sent. */
    public boolean synced() {
        return !sources.isEmpty() && sources.values().stream().allMatch(s -> s.synced);
    }

    public int size() {
        return values.size();
    }
}
