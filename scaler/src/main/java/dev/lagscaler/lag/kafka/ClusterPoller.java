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
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsSpec;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/**
 * One Kafka cluster's shared Admin client and its batched poll: every due trigger's group offsets in batched
 * {@code listConsumerGroupOffsets} calls, topic partitions from a short-lived cache, and every needed log-end offset
 * in one {@code listOffsets} call. Errors stay per key: a bad group or topic fails only the triggers that use it.
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

    private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);

    private final ClusterConnection connection;
    private final Function<ClusterConnection, Admin> adminFactory;
    private final int groupBatchSize;
    private final Duration topicMetadataTtl;
    private final Duration timeout;
    private final Map<String, TopicMeta> topics = new HashMap<>();
    private Admin admin;
    private KafkaConsumer<byte[], byte[]> offsets;
    /** Log ends seen by past polls, for the time lag (poll thread only). */
    private final OffsetHistory history = new OffsetHistory();
    /** Committed offsets seen by past polls, per group, for its health (poll thread only). */
    private final CommitWindow commits;
    private volatile boolean closed;
    private Instant retryClientAt = Instant.MIN;
    private Duration backoff = Duration.ofSeconds(1);
    private TriggerError clientError;

    ClusterPoller(ClusterConnection connection, Function<ClusterConnection, Admin> adminFactory, int groupBatchSize,
                  Duration topicMetadataTtl, Duration timeout, ConsumerHealth.Settings health) {
        this.connection = connection;
        this.adminFactory = adminFactory;
        this.groupBatchSize = groupBatchSize;
        this.topicMetadataTtl = topicMetadataTtl;
        this.timeout = timeout;
        this.commits = new CommitWindow(health);
    }

    Outcome poll(List<Due> due, Instant now) {
        long started = System.nanoTime();
        if (admin == null && now.isBefore(retryClientAt)) {
            List<TriggerResult> results = new ArrayList<>();
            TriggerError waiting = new TriggerError(clientError.kind(), clientError.message()
                    + " (client rebuilt after " + Duration.between(now, retryClientAt).toSeconds() + "s backoff)");
            due.forEach(d -> results.add(new TriggerResult.Failed(d.key(), now, waiting)));
            return new Outcome(results, new PollStats(connection.label(), now, due.size(), 0, 0, 0,
                    Duration.ofNanos(System.nanoTime() - started), true));
        }
        if (admin == null) {
            try {
                admin = buildClient();
            } catch (RuntimeException e) {
                // The client could not even be built (a Kerberos login refused, unreadable key material): every due
                // trigger fails with the reason, and the next try waits like a broken client's rebuild.
                TriggerError error = KafkaErrors.classify(e);
                rebuildLater(now, new TriggerError(error.kind(), "the Kafka client could not be created: " + error.message()));
                List<TriggerResult> results = new ArrayList<>();
                due.forEach(d -> results.add(new TriggerResult.Failed(d.key(), now, clientError)));
                return new Outcome(results, new PollStats(connection.label(), now, due.size(), 0, 0, 0,
                        Duration.ofNanos(System.nanoTime() - started), true));
            }
        }
        long requestsBefore = requestCount(admin);
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
        long requests = requestCount(admin) - requestsBefore;
        int connections = (int) clientMetric(admin, "connection-count");
        long connectionsCreated = (long) clientMetric(admin, "connection-creation-total");
        boolean allFailed = !due.isEmpty() && failures == due.size();
        if (allFailed && clientBroken && clientAtFault(((TriggerResult.Failed) results.get(0)).error(), connections)) {
            rebuildLater(now, ((TriggerResult.Failed) results.get(0)).error());
        } else {
            backoff = Duration.ofSeconds(1);
        }
        PollStats stats = new PollStats(connection.label(), now, due.size(), snapshot.groupOffsets.size(),
                snapshot.latest.size(), requests, Duration.ofNanos(System.nanoTime() - started), allFailed,
                connections, connectionsCreated);
        return new Outcome(results, stats);
    }

    /**
     * Builds the Admin client. A login (GSSAPI, OAUTHBEARER, MSK IAM) runs here and may take as long as its KDC or
     * token endpoint does, so no lock is held: {@link #close()} returns at once, and a client finished after it is
     * closed here instead of kept.
     */
    private Admin buildClient() {
        if (closed) {
            throw new IllegalStateException("the poller is closed");
        }
        Admin built = adminFactory.apply(connection);
        synchronized (this) {
            if (!closed) {
                return built;
            }
        }
        built.close(Duration.ZERO);
        throw new IllegalStateException("the poller is closed");
    }

    /**
     * Whether a poll in which every trigger failed with {@code error} says the client itself is broken: a refused
     * login always does; a timeout only when the client holds no connection to any broker (a single slow group
     * coordinator leaves the other connections up, and a new client would not reach it sooner).
     */
    private static boolean clientAtFault(TriggerError error, int connections) {
        return error.kind() == TriggerError.Kind.AUTH_FAILED
                || (error.kind() == TriggerError.Kind.BROKER_UNREACHABLE && connections == 0);
    }

    private void rebuildLater(Instant now, TriggerError error) {
        closeAdmin();
        clientError = error;
        retryClientAt = now.plus(backoff);
        backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
        topics.clear();
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

    /** The clients' own count of requests sent, across all brokers: the Admin's and the offsets consumer's. */
    long requestCount(Admin admin) {
        double consumerRequests = offsets == null ? 0 : clientMetric(offsets.metrics(), "consumer-metrics", "request-total");
        return (long) (clientMetric(admin, "request-total") + consumerRequests);
    }

    /** One of the Admin client's own metrics (group admin-client-metrics: the whole client, not one node). */
    private static double clientMetric(Admin admin, String metric) {
        return clientMetric(admin.metrics(), "admin-client-metrics", metric);
    }

    /** The sum of a Kafka client's metric {@code name} in {@code group} (the whole client's, not a node's). */
    static double clientMetric(Map<MetricName, ? extends Metric> metrics, String group, String name) {
        double total = 0;
        for (Map.Entry<MetricName, ? extends Metric> e : metrics.entrySet()) {
            if (e.getKey().name().equals(name) && e.getKey().group().equals(group)
                    && e.getValue().metricValue() instanceof Number n) {
                total += n.doubleValue();
            }
        }
        return total;
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
        if (connection.auth().sasl() == dev.lagscaler.trigger.SaslMechanism.GSSAPI || closed) {
            return null;
        }
        try {
            if (offsets == null) {
                Map<String, Object> config = new HashMap<>(dev.lagscaler.auth.KafkaClientConfig.security(connection.auth()));
                config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, connection.label());
                config.put(ConsumerConfig.CLIENT_ID_CONFIG, "lagscaler-offsets-" + connection.label().hashCode());
                config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
                config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
                config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
                offsets = new KafkaConsumer<>(config);
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

    private void closeAdmin() {
        if (admin != null) {
            Admin closing = admin;
            admin = null;
            closing.close(Duration.ZERO);
        }
        if (offsets != null) {
            KafkaConsumer<byte[], byte[]> closing = offsets;
            offsets = null;
            try {
                closing.close(Duration.ZERO);
            } catch (java.util.ConcurrentModificationException e) {
                // A poll is using it on the poll thread: that poll ends with an exception and nothing else uses it.
            }
        }
    }

    @Override
    public synchronized void close() {
        closed = true;
        closeAdmin();
    }
}
