package dev.lagscaler.lag.kafka;

import dev.lagscaler.lag.LagArithmetic;
import dev.lagscaler.lag.LagResult;
import dev.lagscaler.lag.OffsetHistory;
import dev.lagscaler.lag.CommitWindow;
import dev.lagscaler.lag.ConsumerHealth;
import dev.lagscaler.lag.TimeLag;
import dev.lagscaler.lag.TopicPartitionKey;
import dev.lagscaler.lag.PartitionOffsets;
import dev.lagscaler.lag.PersistentLagMemory;
import dev.lagscaler.lag.PollStats;
import dev.lagscaler.lag.TriggerError;
import dev.lagscaler.lag.TriggerKey;
import dev.lagscaler.lag.TriggerResult;
import dev.lagscaler.trigger.ClusterConnection;
import dev.lagscaler.trigger.KafkaTriggerSettings;
import dev.lagscaler.trigger.OffsetResetPolicy;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsSpec;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/**
 * One Kafka cluster's batched poll, over the clients {@link ClusterClients} keeps: every due trigger's group offsets
 * in batched {@code listConsumerGroupOffsets} calls, topic partitions from a short-lived cache, and every needed
 * log-end offset in one {@code listOffsets} call. Errors stay per key: a bad group or topic fails only the triggers that use it.
 * Not thread-safe: {@link LagEngine} serialises polls of one cluster.
 */
final class ClusterPoller implements AutoCloseable {
    /** A trigger due in this poll, with the persistent-lag memory of its previous poll. */
    record Due(TriggerKey key, KafkaTriggerSettings settings, PersistentLagMemory memory) {
    }

    record Outcome(List<TriggerResult> results, PollStats stats) {
    }

    private record TopicMeta(List<Integer> partitions, Instant fetchedAt) {
    }

    private final ClusterConnection connection;
    private final ClusterClients clients;
    private final int groupBatchSize;
    private final Duration topicMetadataTtl;
    private final Duration timeout;
    private final Map<String, TopicMeta> topics = new HashMap<>();
    /** This poll's Admin (poll thread only). */
    private Admin admin;
    /** Log ends seen by past polls, for the time lag (poll thread only). */
    private final OffsetHistory history = new OffsetHistory();
    /** Committed offsets seen by past polls, per group, for its health (poll thread only). */
    private final CommitWindow commits;

    ClusterPoller(ClusterConnection connection, Function<ClusterConnection, Admin> adminFactory, int groupBatchSize,
                  Duration topicMetadataTtl, Duration timeout, ConsumerHealth.Settings health) {
        this.connection = connection;
        this.clients = new ClusterClients(connection, adminFactory);
        this.groupBatchSize = groupBatchSize;
        this.topicMetadataTtl = topicMetadataTtl;
        this.timeout = timeout;
        this.commits = new CommitWindow(health);
    }

    Outcome poll(List<Due> due, Instant now) {
        long started = System.nanoTime();
        try {
            admin = clients.admin(now);
        } catch (ClusterClients.Unavailable e) {
            topics.clear();
            List<TriggerResult> results = new ArrayList<>();
            due.forEach(d -> results.add(new TriggerResult.Failed(d.key(), now, e.error())));
            return new Outcome(results, new PollStats(connection.label(), now, due.size(), 0, 0, 0,
                    Duration.ofNanos(System.nanoTime() - started), true));
        }
        long requestsBefore = clients.requestCount();
        Snapshot snapshot = fetch(due, now);
        List<TriggerResult> results = new ArrayList<>(due.size());
        int failures = 0;
        boolean clientBroken = true;
        for (Due d : due) {
            TriggerResult result = snapshot.resultFor(d, now);
            results.add(result);
            if (result instanceof TriggerResult.Failed failed) {
                failures++;
                clientBroken &= failed.error().kind().rebuildsClient();
            } else {
                clientBroken = false;
            }
        }
        snapshot.staleTopics.forEach(topics::remove);
        long requests = clients.requestCount() - requestsBefore;
        int connections = clients.connections();
        long connectionsCreated = clients.connectionsCreated();
        boolean allFailed = !due.isEmpty() && failures == due.size();
        if (clients.afterPoll(now, allFailed && clientBroken ? ((TriggerResult.Failed) results.get(0)).error() : null)) {
            topics.clear();
        }
        PollStats stats = new PollStats(connection.label(), now, due.size(), snapshot.groupOffsets.size(),
                snapshot.latest.size(), requests, Duration.ofNanos(System.nanoTime() - started), allFailed,
                connections, connectionsCreated);
        return new Outcome(results, stats);
    }

    /** Everything Kafka said in this poll, per key, with per-key failures. */
    private final class Snapshot {
        final Map<String, Map<TopicPartition, OffsetAndMetadata>> groupOffsets = new HashMap<>();
        final Map<String, TriggerError> groupErrors = new HashMap<>();
        final Map<String, TriggerError> topicErrors = new HashMap<>();
        final Map<TopicPartition, Long> latest = new HashMap<>();
        /** Log-start offsets, asked only for partitions an earliest-policy trigger's group never committed. */
        final Map<TopicPartition, Long> earliest = new HashMap<>();
        final Map<TopicPartition, TriggerError> latestErrors = new HashMap<>();
        /** Topics whose partitions vanished: their cached metadata is dropped after this poll. */
        final Set<String> staleTopics = new HashSet<>();

        TriggerResult resultFor(Due d, Instant now) {
            KafkaTriggerSettings s = d.settings();
            TriggerError groupError = groupErrors.get(s.consumerGroup());
            if (groupError != null) {
                return new TriggerResult.Failed(d.key(), now, groupError);
            }
            Map<TopicPartition, OffsetAndMetadata> committed = groupOffsets.getOrDefault(s.consumerGroup(), Map.of());
            List<PartitionOffsets> offsets = new ArrayList<>();
            for (String topic : topicsOf(s, committed)) {
                TriggerError topicError = topicErrors.get(topic);
                if (topicError != null) {
                    return new TriggerResult.Failed(d.key(), now, topicError);
                }
                TopicMeta meta = topics.get(topic);
                if (meta == null) {
                    return new TriggerResult.Failed(d.key(), now,
                            new TriggerError(TriggerError.Kind.OTHER, "no partition metadata for topic " + topic));
                }
                for (int partition : meta.partitions()) {
                    if (!s.considersPartition(partition)) {
                        continue;
                    }
                    TopicPartition tp = new TopicPartition(topic, partition);
                    TriggerError partitionError = latestErrors.get(tp);
                    if (partitionError != null) {
                        return new TriggerResult.Failed(d.key(), now, partitionError);
                    }
                    OffsetAndMetadata c = committed.get(tp);
                    Long end = latest.get(tp);
                    offsets.add(new PartitionOffsets(topic, partition, c == null ? PartitionOffsets.NONE : c.offset(),
                            end == null ? PartitionOffsets.NONE : end, earliest.getOrDefault(tp, PartitionOffsets.NONE)));
                }
            }
            LagResult lag = LagArithmetic.compute(s, offsets, d.memory());
            long millis = now.toEpochMilli();
            for (PartitionOffsets o : offsets) {
                if (o.hasCommitted() && o.hasLatest()) {
                    commits.record(s.consumerGroup(), o.key(), o.committed(), Math.max(0, o.latest() - o.committed()), millis);
                }
            }
            return new TriggerResult.Measured(d.key(), now, lag, TimeLag.of(lag, history, millis),
                    commits.judge(s.consumerGroup(), lag.partitions(), millis));
        }
    }

    private Snapshot fetch(List<Due> due, Instant now) {
        Snapshot snap = new Snapshot();
        Set<String> groups = new LinkedHashSet<>();
        due.forEach(d -> groups.add(d.settings().consumerGroup()));
        Set<String> namedTopics = new LinkedHashSet<>();
        due.stream().map(Due::settings).filter(KafkaTriggerSettings::hasTopic).forEach(s -> namedTopics.add(s.topic()));

        // Group offsets and the named topics' partitions are independent: ask for both at once.
        Map<String, KafkaFuture<Map<TopicPartition, OffsetAndMetadata>>> groupFutures = requestGroupOffsets(groups);
        Map<String, KafkaFuture<TopicDescription>> describeFutures = requestTopics(namedTopics, now);
        groupFutures.forEach((group, future) -> {
            try {
                snap.groupOffsets.put(group, future.get(timeout.toMillis(), TimeUnit.MILLISECONDS));
            } catch (Exception e) {
                snap.groupErrors.put(group, KafkaErrors.classify(e));
            }
        });
        collectTopics(describeFutures, snap, now);

        // Triggers without a topic follow every topic their group has committed offsets for.
        Set<String> followedTopics = new LinkedHashSet<>();
        for (Due d : due) {
            if (!d.settings().hasTopic()) {
                followedTopics.addAll(topicsOf(d.settings(), snap.groupOffsets.getOrDefault(d.settings().consumerGroup(), Map.of())));
            }
        }
        collectTopics(requestTopics(followedTopics, now), snap, now);

        Map<TopicPartition, OffsetSpec> wanted = new HashMap<>();
        Map<TopicPartition, OffsetSpec> wantedStart = new HashMap<>();
        for (Due d : due) {
            KafkaTriggerSettings s = d.settings();
            if (snap.groupErrors.containsKey(s.consumerGroup())) {
                continue;
            }
            Map<TopicPartition, OffsetAndMetadata> committed = snap.groupOffsets.getOrDefault(s.consumerGroup(), Map.of());
            boolean needsStart = s.offsetResetPolicy() == OffsetResetPolicy.EARLIEST && !s.scaleToZeroOnInvalidOffset();
            for (String topic : topicsOf(s, committed)) {
                TopicMeta meta = topics.get(topic);
                if (meta == null || snap.topicErrors.containsKey(topic)) {
                    continue;
                }
                for (int partition : meta.partitions()) {
                    if (s.considersPartition(partition)) {
                        TopicPartition tp = new TopicPartition(topic, partition);
                        wanted.put(tp, OffsetSpec.latest());
                        if (needsStart && committed.get(tp) == null) {
                            wantedStart.put(tp, OffsetSpec.earliest());
                        }
                    }
                }
            }
        }
        // KEDA counts a never-committed partition under offsetResetPolicy earliest as its retained records (log end
        // minus log start): the log start is asked for those partitions only, beside the log ends.
        ListOffsetsResult starts = wantedStart.isEmpty() ? null : admin.listOffsets(wantedStart);
        Map<TopicPartition, Long> ends = wanted.isEmpty() ? null : endOffsets(wanted.keySet());
        if (ends != null) {
            snap.latest.putAll(ends);
        } else if (!wanted.isEmpty()) {
            ListOffsetsResult result = admin.listOffsets(wanted);
            for (TopicPartition tp : wanted.keySet()) {
                try {
                    snap.latest.put(tp, result.partitionResult(tp).get(timeout.toMillis(), TimeUnit.MILLISECONDS).offset());
                } catch (Exception e) {
                    TriggerError error = KafkaErrors.classify(e);
                    snap.latestErrors.put(tp, error);
                    if (KafkaErrors.unwrap(e) instanceof UnknownTopicOrPartitionException) {
                        snap.staleTopics.add(tp.topic());
                    }
                }
            }
        }
        recordHistory(snap.latest, now);
        if (starts != null) {
            for (TopicPartition tp : wantedStart.keySet()) {
                try {
                    snap.earliest.put(tp, starts.partitionResult(tp).get(timeout.toMillis(), TimeUnit.MILLISECONDS).offset());
                } catch (Exception e) {
                    // As KEDA: without a log start, the log end stands for the retained records.
                }
            }
        }
        return snap;
    }

    private Map<String, KafkaFuture<Map<TopicPartition, OffsetAndMetadata>>> requestGroupOffsets(Set<String> groups) {
        Map<String, KafkaFuture<Map<TopicPartition, OffsetAndMetadata>>> futures = new HashMap<>();
        List<String> all = new ArrayList<>(groups);
        for (int from = 0; from < all.size(); from += groupBatchSize) {
            Map<String, ListConsumerGroupOffsetsSpec> batch = new HashMap<>();
            for (String group : all.subList(from, Math.min(all.size(), from + groupBatchSize))) {
                batch.put(group, new ListConsumerGroupOffsetsSpec());
            }
            var result = admin.listConsumerGroupOffsets(batch);
            batch.keySet().forEach(group -> futures.put(group, result.partitionsToOffsetAndMetadata(group)));
        }
        return futures;
    }

    /** Asks only for topics whose cached partition list is missing or older than the TTL. */
    private Map<String, KafkaFuture<TopicDescription>> requestTopics(Set<String> names, Instant now) {
        Set<String> stale = new LinkedHashSet<>();
        for (String name : names) {
            TopicMeta meta = topics.get(name);
            if (meta == null || meta.fetchedAt().plus(topicMetadataTtl).isBefore(now)) {
                stale.add(name);
            }
        }
        return stale.isEmpty() ? Map.of() : admin.describeTopics(stale).topicNameValues();
    }

    private void collectTopics(Map<String, KafkaFuture<TopicDescription>> futures, Snapshot snap, Instant now) {
        futures.forEach((name, future) -> {
            try {
                TopicDescription description = future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
                List<Integer> partitions = description.partitions().stream().map(p -> p.partition()).sorted().toList();
                topics.put(name, new TopicMeta(partitions, now));
            } catch (Exception e) {
                topics.remove(name);
                TriggerError error = KafkaErrors.classify(e);
                if (error.kind() == TriggerError.Kind.TOPIC_MISSING) {
                    error = new TriggerError(TriggerError.Kind.TOPIC_MISSING, "topic " + name + " does not exist");
                }
                snap.topicErrors.put(name, error);
            }
        });
    }

    private static Set<String> topicsOf(KafkaTriggerSettings s, Map<TopicPartition, OffsetAndMetadata> committed) {
        if (s.hasTopic()) {
            return Set.of(s.topic());
        }
        Set<String> names = new java.util.TreeSet<>();
        committed.keySet().forEach(tp -> names.add(tp.topic()));
        return names;
    }

    /**
     * The log ends through a consumer's {@code endOffsets}: the same requests as {@code Admin.listOffsets} (metadata,
     * one ListOffsets per leader), without its cost that grows with the square of the partitions. kafka-clients
     * builds immutable maps and sets of TopicPartitions per call ({@code ListOffsetsHandler.newFuture},
     * {@code AdminApiDriver.collectRequests}), whose linear probing degrades on TopicPartition's clustered hash codes
     * (a JFR profile by bench/profile-list-offsets.sh: 37% of the samples at 10,000 partitions). Null when it cannot
     * answer for every partition (the Admin path then gives each partition its own error) or for GSSAPI clusters.
     */
    private Map<TopicPartition, Long> endOffsets(java.util.Set<TopicPartition> partitions) {
        try {
            KafkaConsumer<byte[], byte[]> offsets = clients.logEndConsumer();
            if (offsets == null) {
                return null;
            }
            Duration wait = timeout.compareTo(Duration.ofSeconds(2)) > 0 ? Duration.ofSeconds(2) : timeout;
            Map<TopicPartition, Long> ends = offsets.endOffsets(partitions, wait);
            return ends.keySet().containsAll(partitions) && !ends.containsValue(null) ? ends : null;
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** The log ends just read, into the history the time lag is estimated from. */
    private void recordHistory(Map<TopicPartition, Long> ends, Instant now) {
        ends.forEach((tp, end) -> history.record(new TopicPartitionKey(tp.topic(), tp.partition()), end, now.toEpochMilli()));
    }

    @Override
    public void close() {
        clients.close();
    }
}
