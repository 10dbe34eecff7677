package dev.lagscaler.lag.kafka;

import dev.lagscaler.auth.KafkaClientConfig;
import dev.lagscaler.trigger.ClusterConnection;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One consumer per Kafka cluster that parks on the log end of the partitions whose targets sit at zero, so the first
 * record wakes the engine instead of the next poll finding it. No group membership and no commits: {@code assign}
 * and a long-poll fetch ({@code fetch.max.wait.ms}), whatever the number of idle targets. A partition that yielded
 * records moves to the log end that fetch saw and is paused for a second (the engine has been told; the poll that
 * follows measures the lag), so each record wakes its trigger once. When it cannot
 * fetch (ACLs, a broker refusing it) it reports itself unhealthy and retries; polling stays the fallback.
 *
 * <p>The fetch waits {@link #FETCH_WAIT} at the broker: the first record ends the wait at once, so a long wait costs
 * nothing in reaction and saves requests. But a consumer sends no new fetch to a broker while one waits there, so a
 * partition added meanwhile would only be watched when that fetch returns: when partitions are added, the consumer is
 * replaced by one that starts where the old one stood on the partitions it kept (a record that arrived in between is
 * fetched, not skipped) and at the log end on the new ones.
 */
final class RecordWatcher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RecordWatcher.class);
    private static final AtomicInteger IDS = new AtomicInteger();
    static final Duration FETCH_WAIT = Duration.ofSeconds(5);
    /** How often the loop looks at the watched set while nothing is watched. */
    private static final Duration IDLE_CHECK = Duration.ofMillis(500);
    private static final Duration PAUSE_AFTER_RECORDS = Duration.ofSeconds(1);
    private static final Duration FIRST_RETRY = Duration.ofSeconds(1);
    private static final Duration MAX_RETRY = Duration.ofSeconds(30);

    private final ClusterConnection connection;
    private final Consumer<TopicPartition> onRecords;
    private final Function<Map<String, Object>, KafkaConsumer<byte[], byte[]>> consumerFactory;
    private final Thread thread;
    private final AtomicInteger restarts = new AtomicInteger();
    private volatile Set<TopicPartition> wanted = Set.of();
    private volatile int positioned;
    /** Its current consumer has begun fetching (a fetch may wait at a broker): an added partition replaces it. */
    private volatile boolean fetching;
    private final AtomicInteger replacements = new AtomicInteger();
    /** Fetching as it should: false until its first fetch, and after a failure until the next fetch succeeds. */
    private volatile boolean healthy;
    private volatile String lastError;
    private volatile boolean closed;
    private volatile KafkaConsumer<byte[], byte[]> consumer;
    /** Per partition, the offset it fetches from after its last report: what it has reported is before it. */
    private final Map<TopicPartition, Long> reportedBefore = new java.util.concurrent.ConcurrentHashMap<>();
    /** Requests sent by the consumers this watcher made, read on its own thread after each fetch. */
    private volatile long requests;
    private long requestsOfClosedConsumers;

    RecordWatcher(ClusterConnection connection, Consumer<TopicPartition> onRecords,
                  Function<Map<String, Object>, KafkaConsumer<byte[], byte[]>> consumerFactory) {
        this.connection = connection;
        this.onRecords = onRecords;
        this.consumerFactory = consumerFactory;
        this.thread = new Thread(this::run, "lag-wakeup-" + connection.label());
        this.thread.setDaemon(true);
        this.thread.start();
    }

    /** The partitions to watch from now on (the consumer picks them up at once). */
    void watch(Set<TopicPartition> partitions) {
        if (!partitions.equals(wanted)) {
            // A HashSet, not Set.copyOf: the immutable sets probe linearly, and TopicPartitions' hash codes cluster
            // (topic-1/0, topic-1/1 ...), which made every copy and comparison of a few thousand of them slow.
            wanted = java.util.Collections.unmodifiableSet(new HashSet<>(partitions));
            KafkaConsumer<byte[], byte[]> c = consumer;
            if (c != null) {
                c.wakeup();
            }
        }
    }

    boolean healthy() {
        return healthy;
    }

    String lastError() {
        return lastError;
    }

    /**
     * The partitions its consumer is parked on: assigned, with the position each fetch starts from resolved (a record
     * that arrives from then on wakes its trigger). Less than wanted while the consumer is replaced or failing.
     */
    int watched() {
        return positioned;
    }

    /** Whether its current consumer has begun fetching (partitions added from now on replace the consumer). */
    boolean fetching() {
        return fetching;
    }

    /** The offset it fetches {@code tp} from since it last reported records there (null if it never did). */
    Long reportedBefore(TopicPartition tp) {
        return reportedBefore.get(tp);
    }

    /** How many times its consumer was replaced to add partitions while a fetch could wait at a broker. */
    int replacements() {
        return replacements.get();
    }

    /** How many times its consumer failed (to be built, or to fetch) and was started again. */
    int restarts() {
        return restarts.get();
    }

    /** Kafka requests this watcher has sent (fetches, metadata, list-offsets), all its consumers together. */
    long requests() {
        return requests;
    }

    private void run() {
        Map<TopicPartition, Long> resumeAt = new HashMap<>();
        Duration retry = FIRST_RETRY;
        while (!closed) {
            KafkaConsumer<byte[], byte[]> c = null;
            try {
                // Built inside the loop's guard: a consumer that cannot be made (a login refused, key material
                // unreadable) is retried like one that cannot fetch, never a dead thread still counted as watching.
                c = consumerFactory.apply(config());
                consumer = c;
                if (closed) {
                    return;
                }
                resumeAt = watchLoop(c, resumeAt);
                retry = FIRST_RETRY;
            } catch (WakeupException e) {
                // closing
            } catch (RuntimeException | LinkageError | AssertionError e) {
                if (closed) {
                    return;
                }
                healthy = false;
                lastError = e.getClass().getSimpleName() + ": " + e.getMessage();
                restarts.incrementAndGet();
                LOG.atWarn().addKeyValue("cluster", connection.label()).addKeyValue("error", lastError)
                        .addKeyValue("retry_ms", retry.toMillis())
                        .log("wake-up consumer failed; polling carries on alone until it is back");
                sleep(retry);
                retry = retry.multipliedBy(2).compareTo(MAX_RETRY) > 0 ? MAX_RETRY : retry.multipliedBy(2);
                resumeAt = new HashMap<>();
            } finally {
                consumer = null;
                positioned = 0;
                requestsOfClosedConsumers = requests;
                if (c != null) {
                    try {
                        c.close(Duration.ZERO); // no group, no commits: nothing to wait for (a fetch may wait at a broker)
                    } catch (RuntimeException e) {
                        LOG.atDebug().addKeyValue("cluster", connection.label()).addKeyValue("error", e.toString())
                                .log("wake-up consumer did not close cleanly");
                    }
                }
            }
        }
    }

    /**
     * Watches until closed, or until partitions are added while a fetch may wait at a broker: then returns where it
     * stood on the partitions it watched, for the next consumer to start there.
     */
    private Map<TopicPartition, Long> watchLoop(KafkaConsumer<byte[], byte[]> c, Map<TopicPartition, Long> resumeAt) {
        Set<TopicPartition> assigned = new HashSet<>();
        Set<TopicPartition> assignedFrom = null; // the wanted set assigned was made from: unchanged while it is the same
        ClientMetric requestTotal = new ClientMetric(c::metrics, "consumer-metrics", "request-total");
        Map<TopicPartition, Long> pausedUntil = new HashMap<>();
        fetching = false;
        while (!closed) {
            Set<TopicPartition> target = wanted;
            if (target != assignedFrom && !target.equals(assigned)) {
                Set<TopicPartition> added = new HashSet<>(target);
                added.removeAll(assigned);
                if (fetching && !added.isEmpty()) {
                    Map<TopicPartition, Long> positions = new HashMap<>();
                    assigned.forEach(tp -> positions.put(tp, c.position(tp)));
                    replacements.incrementAndGet();
                    return positions;
                }
                c.assign(target);
                if (!added.isEmpty()) {
                    Set<TopicPartition> fresh = new HashSet<>();
                    for (TopicPartition tp : added) {
                        Long at = resumeAt.get(tp);
                        if (at != null) {
                            c.seek(tp, at); // where the previous consumer stood: what arrived since is fetched
                        } else {
                            fresh.add(tp);
                        }
                    }
                    c.seekToEnd(fresh); // only what arrives from now on wakes anyone
                    fresh.forEach(c::position); // resolve the end now, before records can arrive
                    resumeAt = Map.of(); // the replaced consumer's positions hold for this first assignment only
                }
                pausedUntil.keySet().retainAll(target);
                assigned = new HashSet<>(target);
                positioned = assigned.size();
            }
            assignedFrom = target;
            if (assigned.isEmpty()) {
                sleep(IDLE_CHECK); // nothing at zero on this cluster now
                continue;
            }
            long now = System.nanoTime();
            pausedUntil.entrySet().removeIf(e -> {
                if (e.getValue() <= now) {
                    c.resume(Set.of(e.getKey()));
                    return true;
                }
                return false;
            });
            ConsumerRecords<byte[], byte[]> records;
            try {
                fetching = true;
                records = c.poll(FETCH_WAIT);
            } catch (WakeupException e) {
                if (closed) {
                    return Map.of();
                }
                continue; // the watched set changed
            }
            healthy = true;
            requests = requestsOfClosedConsumers + (long) requestTotal.value();
            for (TopicPartition tp : records.partitions()) {
                onRecords.accept(tp);
                // Everything up to the log end this fetch saw has now been reported: fetch on from there, so that
                // only what arrives next wakes the trigger again (resuming behind it re-reported the same backlog
                // every second, a poll of the trigger each time, until its target left zero).
                java.util.OptionalLong behind = c.currentLag(tp);
                long next = c.position(tp) + (behind.isPresent() ? behind.getAsLong() : 0);
                if (behind.isPresent() && behind.getAsLong() > 0) {
                    c.seek(tp, next);
                }
                reportedBefore.put(tp, next);
                c.pause(Set.of(tp));
                pausedUntil.put(tp, System.nanoTime() + PAUSE_AFTER_RECORDS.toNanos());
            }
        }
        return Map.of();
    }

    private Map<String, Object> config() {
        Map<String, Object> config = new HashMap<>(KafkaClientConfig.security(connection.auth()));
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, connection.label());
        config.put(ConsumerConfig.CLIENT_ID_CONFIG, "lagscaler-wakeup-" + IDS.incrementAndGet());
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest");
        config.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, (int) FETCH_WAIT.toMillis());
        config.put(ConsumerConfig.FETCH_MIN_BYTES_CONFIG, 1);
        // Only that something arrived matters: fetch as little of each partition as Kafka allows, but let one fetch
        // and one poll carry every partition with records (a thousand targets woken at once, 3,000 partitions: at 64
        // KiB a fetch and 100 records a poll, that took about 30 loops and several round trips per broker).
        config.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 1024);
        config.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, 4 * 1024 * 1024);
        config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 20_000);
        config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        return config;
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        closed = true;
        KafkaConsumer<byte[], byte[]> c = consumer;
        if (c != null) {
            c.wakeup(); // ends a waiting fetch; the loop then sees closed and the consumer closes cleanly
        }
    }
}
