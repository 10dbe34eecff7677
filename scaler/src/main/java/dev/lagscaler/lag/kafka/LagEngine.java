package dev.lagscaler.lag.kafka;

import dev.lagscaler.lag.ConsumerHealth;
import dev.lagscaler.lag.PersistentLagMemory;
import dev.lagscaler.lag.PollStats;
import dev.lagscaler.lag.TriggerError;
import dev.lagscaler.lag.TriggerKey;
import dev.lagscaler.lag.TriggerResult;
import dev.lagscaler.Defaults;
import dev.lagscaler.auth.KafkaClientConfig;
import dev.lagscaler.trigger.ClusterConnection;
import dev.lagscaler.trigger.KafkaTriggerSettings;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Measures the lag of every registered trigger. Triggers with the same connection settings share one Admin client
 * and one batched poll; each trigger is polled at its own interval, and triggers due close together are coalesced
 * into the same poll. Results go to each trigger's listener; a failure of one trigger never reaches another.
 * Each cluster polls on its own thread and no lock that registration or scheduling takes is held while Kafka is
 * waited on, so a slow or unreachable cluster delays neither another cluster's polls nor the controller.
 */
public final class LagEngine implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LagEngine.class);

    /**
     * Engine settings. {@code groupBatchSize} bounds the groups of one listConsumerGroupOffsets call;
     * {@code consumerHealth} is the window each group's health is judged over; {@code wakeUpConsumerFactory} makes
     * each cluster's wake-up consumer from its configuration.
     */
    public record Options(Function<ClusterConnection, Admin> adminFactory, int groupBatchSize,
                          Duration topicMetadataTtl, Duration kafkaTimeout, int threads, Clock clock,
                          ConsumerHealth.Settings consumerHealth,
                          Function<Map<String, Object>, KafkaConsumer<byte[], byte[]>> wakeUpConsumerFactory) {
        public Options(Function<ClusterConnection, Admin> adminFactory, int groupBatchSize, Duration topicMetadataTtl,
                       Duration kafkaTimeout, int threads, Clock clock) {
            this(adminFactory, groupBatchSize, topicMetadataTtl, kafkaTimeout, threads, clock,
                    ConsumerHealth.Settings.DEFAULTS, KafkaConsumer::new);
        }

        public static Options defaults() {
            AtomicInteger ids = new AtomicInteger();
            return new Options(c -> KafkaClientConfig.openAdmin(c, "lagscaler-" + ids.incrementAndGet()),
                    1000, Duration.ofSeconds(30), Defaults.KAFKA_API_TIMEOUT, 2, Clock.systemUTC());
        }

        public Options withKafkaTimeout(Duration t) {
            return new Options(adminFactory, groupBatchSize, topicMetadataTtl, t, threads, clock, consumerHealth,
                    wakeUpConsumerFactory);
        }

        public Options withConsumerHealth(ConsumerHealth.Settings health) {
            return new Options(adminFactory, groupBatchSize, topicMetadataTtl, kafkaTimeout, threads, clock, health,
                    wakeUpConsumerFactory);
        }

        public Options withClock(Clock c) {
            return new Options(adminFactory, groupBatchSize, topicMetadataTtl, kafkaTimeout, threads, c, consumerHealth,
                    wakeUpConsumerFactory);
        }

        public Options withWakeUpConsumerFactory(Function<Map<String, Object>, KafkaConsumer<byte[], byte[]>> factory) {
            return new Options(adminFactory, groupBatchSize, topicMetadataTtl, kafkaTimeout, threads, clock,
                    consumerHealth, factory);
        }
    }

    private static final Duration FIRST_POLL_DELAY = Duration.ofMillis(50);
    /** The least time between the starts of two scheduled polls of one cluster (wake-ups within it share a poll). */
    static final Duration TICK_SPACING = Duration.ofMillis(50);
    /**
     * How often a trigger watched by a healthy wake-up consumer is still polled: the consumer wakes it on the first
     * record; this poll is the safety net (a partition added since, a consumer that stalls unnoticed).
     */
    static final Duration WATCHED_POLL_INTERVAL = Duration.ofSeconds(5);

    /**
     * A cluster's wake-up consumer: whether it fetches, how many partitions it parks on, and how many times it failed
     * and was started again.
     */
    public record WakeUpState(boolean healthy, int partitions, String lastError, long requests, int restarts,
                              boolean fetching, int replacements) {
    }

    private final Options options;
    private final ScheduledExecutorService scheduler;
    private final Map<ClusterConnection, Cluster> clusters = new ConcurrentHashMap<>();
    private final List<Consumer<PollStats>> pollListeners = new CopyOnWriteArrayList<>();
    /** Polls that ended in an unexpected exception (and were followed by the next one all the same). */
    private final AtomicInteger tickFailures = new AtomicInteger();
    private volatile boolean closed;

    public LagEngine(Options options) {
        this.options = options;
        AtomicInteger n = new AtomicInteger();
        this.scheduler = Executors.newScheduledThreadPool(options.threads(), r -> {
            Thread t = new Thread(r, "lag-engine-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /** Starts polling a trigger every {@code interval}; the first poll is due at once. */
    public Registration register(TriggerKey key, KafkaTriggerSettings settings, Duration interval,
                                 Consumer<TriggerResult> listener) {
        Cluster cluster = clusters.computeIfAbsent(settings.connection(), Cluster::new);
        Registration registration = new Registration(cluster, key, settings, interval, listener);
        cluster.add(registration);
        return registration;
    }

    /** Polls every trigger of a cluster now, on the caller's thread (for the CLI and tests). */
    public Optional<PollStats> pollNow(ClusterConnection connection) {
        Cluster cluster = clusters.get(connection);
        return cluster == null ? Optional.empty() : Optional.of(cluster.poll(true));
    }

    public void addPollListener(Consumer<PollStats> listener) {
        pollListeners.add(listener);
    }

    /** Each cluster's wake-up consumer (clusters with a watched trigger only), by the cluster's label. */
    public Map<String, WakeUpState> wakeUpState() {
        Map<String, WakeUpState> state = new java.util.TreeMap<>();
        clusters.values().forEach(c -> {
            RecordWatcher w = c.watcher;
            if (w != null) {
                state.put(c.connection.label(), new WakeUpState(w.healthy(), w.watched(), w.lastError(), w.requests(), w.restarts(),
                        w.fetching(), w.replacements()));
            }
        });
        return state;
    }

    /** Whether the cluster's wake-up consumer fetches as it should (false when it has none). */
    public boolean wakeUpHealthy(ClusterConnection connection) {
        Cluster c = clusters.get(connection);
        RecordWatcher w = c == null ? null : c.watcher;
        return w != null && w.healthy();
    }

    /** Whether a trigger is registered now (on any cluster). */
    public boolean isRegistered(TriggerKey key) {
        for (Cluster c : clusters.values()) {
            synchronized (c) {
                if (c.registrations.stream().anyMatch(r -> r.key.equals(key))) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Scheduled polls that ended in an unexpected exception; the loop carried on after each. */
    public int pollFailures() {
        return tickFailures.get();
    }

    /** How many Admin clients (Kafka clusters with registered triggers) the engine holds. */
    public int clusterCount() {
        return clusters.size();
    }

    @Override
    public void close() {
        closed = true;
        scheduler.shutdownNow();
        clusters.values().forEach(Cluster::close);
        clusters.clear();
    }

    /** A registered trigger. Its interval may change (fast polling while its target is at zero). */
    public final class Registration implements AutoCloseable {
        private final Cluster cluster;
        private final TriggerKey key;
        private final KafkaTriggerSettings settings;
        private final Consumer<TriggerResult> listener;
        private volatile Duration interval;
        private volatile boolean watching;
        /** How often a watched trigger is still polled, as a safety net (at least WATCHED_POLL_INTERVAL). */
        private volatile Duration safetyNet = WATCHED_POLL_INTERVAL;
        private volatile TriggerResult latest;
        private PersistentLagMemory memory = PersistentLagMemory.EMPTY;
        /** Records seen on its partitions by the wake-up consumer (guarded by the cluster's monitor). */
        private long wakes;
        private Instant nextDue = Instant.MIN;
        private Instant lastPolled = Instant.MIN;

        private Registration(Cluster cluster, TriggerKey key, KafkaTriggerSettings settings, Duration interval,
                             Consumer<TriggerResult> listener) {
            this.cluster = cluster;
            this.key = key;
            this.settings = settings;
            this.interval = interval;
            this.listener = listener;
        }

        public TriggerKey key() {
            return key;
        }

        public KafkaTriggerSettings settings() {
            return settings;
        }

        /** The latest result, or null before the first poll. */
        public TriggerResult latest() {
            return latest;
        }

        /** Changes the interval; a shorter one takes effect at once rather than after the current wait. */
        public void setInterval(Duration newInterval) {
            if (newInterval.equals(interval)) {
                return;
            }
            interval = newInterval;
            cluster.reschedule(this);
        }

        /**
         * Whether the first record on this trigger's partitions should wake it (its target is at zero): the cluster's
         * wake-up consumer parks on them. GSSAPI clusters are polled only.
         */
        public void watchForRecords(boolean on) {
            watchForRecords(on, WATCHED_POLL_INTERVAL);
        }

        /**
         * As {@link #watchForRecords(boolean)}, polling a watched trigger every {@code safetyNet} (at least
         * {@link #WATCHED_POLL_INTERVAL}): the operator passes the object's pollingInterval, so what the wake-up
         * consumer might miss (a partition added since it parked) is found as soon as KEDA's polling would find it.
         */
        public void watchForRecords(boolean on, Duration safetyNet) {
            this.safetyNet = safetyNet.compareTo(WATCHED_POLL_INTERVAL) < 0 ? WATCHED_POLL_INTERVAL : safetyNet;
            if (on != watching) {
                watching = on;
                cluster.updateWatch();
            }
        }

        @Override
        public void close() {
            cluster.remove(this);
        }
    }

    /** The triggers of one Kafka cluster, their schedule and their shared poller. */
    private final class Cluster {
        private final ClusterConnection connection;
        private final ClusterPoller poller;
        private final List<Registration> registrations = new ArrayList<>();
        /** Polls of this cluster, one at a time; the shared scheduler only wakes it. */
        private final ExecutorService pollThread;
        /** Held across one poll's Kafka calls, and only by polls of this cluster (a tick, or pollNow). */
        private final ReentrantLock polling = new ReentrantLock();
        private ScheduledFuture<?> wakeUp;
        private Instant wakeAt = Instant.MAX;
        /** A tick is polling (guarded by this): it schedules the next tick when it ends. */
        private boolean ticking;
        /** When the last tick started (guarded by this): the next starts {@link #TICK_SPACING} later at the earliest. */
        private long lastTickNanos = System.nanoTime() - TICK_SPACING.toNanos();
        private volatile RecordWatcher watcher;
        private Map<org.apache.kafka.common.TopicPartition, List<Registration>> watchedBy = Map.of();

        Cluster(ClusterConnection connection) {
            this.connection = connection;
            this.poller = new ClusterPoller(connection, options.adminFactory(), options.groupBatchSize(),
                    options.topicMetadataTtl(), options.kafkaTimeout(), options.consumerHealth());
            this.pollThread = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "lag-poll-" + connection.label());
                t.setDaemon(true);
                return t;
            });
        }

        synchronized void add(Registration r) {
            registrations.add(r);
            // A short delay lets a burst of registrations (operator start) share the first poll.
            scheduleAt(options.clock().instant().plus(FIRST_POLL_DELAY));
        }

        synchronized void remove(Registration r) {
            registrations.remove(r);
            if (registrations.isEmpty()) {
                clusters.remove(connection, this);
                if (wakeUp != null) {
                    wakeUp.cancel(false);
                }
                pollThread.shutdown();
                poller.close();
                closeWatcher();
            } else if (r.watching) {
                updateWatch();
            }
        }

        /** Points the wake-up consumer at the measured partitions of every watching trigger. */
        synchronized void updateWatch() {
            Map<org.apache.kafka.common.TopicPartition, List<Registration>> by = new HashMap<>();
            for (Registration r : registrations) {
                if (r.watching && r.latest instanceof TriggerResult.Measured m) {
                    for (var p : m.lag().partitions()) {
                        by.computeIfAbsent(new org.apache.kafka.common.TopicPartition(p.offsets().topic(),
                                p.offsets().partition()), k -> new ArrayList<>()).add(r);
                    }
                }
            }
            watchedBy = by;
            if (by.isEmpty() && watcher == null) {
                return;
            }
            // Once made, the consumer stays (idle, with nothing assigned) until the cluster goes: targets come
            // back to zero again and again.
            if (watcher == null && connection.auth().sasl() != dev.lagscaler.trigger.SaslMechanism.GSSAPI && !closed) {
                watcher = new RecordWatcher(connection, this::recordsArrived, options.wakeUpConsumerFactory());
            }
            if (watcher != null) {
                watcher.watch(by.keySet());
            }
        }

        /** The wake-up consumer saw records: the triggers watching that partition are due now. */
        private void recordsArrived(org.apache.kafka.common.TopicPartition tp) {
            synchronized (this) {
                for (Registration r : watchedBy.getOrDefault(tp, List.of())) {
                    r.nextDue = Instant.MIN;
                    r.wakes++;
                }
                LOG.atDebug().addKeyValue("cluster", connection.label()).addKeyValue("partition", tp.toString())
                        .log("records on a watched partition: polling now");
                scheduleAt(Instant.MIN);
            }
        }

        private void closeWatcher() {
            RecordWatcher w = watcher;
            watcher = null;
            if (w != null) {
                w.close();
            }
        }

        synchronized void reschedule(Registration r) {
            Instant due = r.lastPolled.equals(Instant.MIN) ? Instant.MIN : r.lastPolled.plus(r.interval);
            if (due.isBefore(r.nextDue)) {
                r.nextDue = due;
            }
            scheduleAt(r.nextDue);
        }

        /**
         * Polls the due triggers (all of them when {@code everything}) in one batch and delivers the results. The
         * cluster's monitor is held only to pick the due triggers and to record their results, not across Kafka.
         */
        PollStats poll(boolean everything) {
            polling.lock();
            try {
                return pollLocked(everything);
            } finally {
                polling.unlock();
            }
        }

        private PollStats pollLocked(boolean everything) {
            Instant now = options.clock().instant();
            List<Registration> due = new ArrayList<>();
            List<ClusterPoller.Due> batch = new ArrayList<>();
            List<Long> wakesBefore = new ArrayList<>();
            synchronized (this) {
                RecordWatcher w = watcher;
                boolean watcherUp = w != null && w.healthy();
                for (Registration r : registrations) {
                    if (everything || PollSchedule.joins(now, r.nextDue, r.interval,
                            r.watching && watcherUp ? r.safetyNet : null)) {
                        due.add(r);
                        wakesBefore.add(r.wakes);
                        batch.add(new ClusterPoller.Due(r.key, r.settings, r.memory));
                    }
                }
            }
            ClusterPoller.Outcome outcome;
            try {
                outcome = poller.poll(batch, now);
            } catch (RuntimeException e) {
                TriggerError error = KafkaErrors.classify(e);
                List<TriggerResult> failed = new ArrayList<>();
                due.forEach(r -> failed.add(new TriggerResult.Failed(r.key, now, error)));
                outcome = new ClusterPoller.Outcome(failed, new PollStats(connection.label(), now, due.size(), 0, 0, 0,
                        Duration.ZERO, true));
                LOG.atWarn().addKeyValue("cluster", connection.label()).addKeyValue("error", error).log("poll failed");
            }
            List<Registration> delivered = new ArrayList<>();
            boolean rewatch = false;
            synchronized (this) {
                for (int i = 0; i < due.size(); i++) {
                    Registration r = due.get(i);
                    if (!registrations.contains(r)) {
                        continue; // closed while its poll ran
                    }
                    TriggerResult result = outcome.results().get(i);
                    if (result instanceof TriggerResult.Measured m) {
                        r.memory = m.lag().next();
                    }
                    boolean firstMeasure = r.watching && !(r.latest instanceof TriggerResult.Measured);
                    r.latest = result;
                    r.lastPolled = now;
                    RecordWatcher w = watcher;
                    boolean watched = r.watching && w != null && w.healthy() && result instanceof TriggerResult.Measured;
                    r.nextDue = PollSchedule.nextDue(now, r.interval, watched ? r.safetyNet : null, r.wakes != wakesBefore.get(i));
                    delivered.add(r);
                    if (firstMeasure) {
                        rewatch = true;
                    }
                }
            }
            if (rewatch || delivered.stream().anyMatch(r -> r.watching)) {
                try {
                    updateWatch();
                } catch (RuntimeException e) {
                    // The results still go out: a watcher that could not be pointed leaves these triggers polled.
                    LOG.atError().addKeyValue("cluster", connection.label()).addKeyValue("error", e.toString())
                            .log("could not point the wake-up consumer");
                }
            }
            delivered.forEach(r -> deliver(r, r.latest));
            PollStats stats = outcome.stats();
            LOG.atDebug().addKeyValue("cluster", stats.cluster()).addKeyValue("triggers", stats.triggers())
                    .addKeyValue("groups", stats.groups()).addKeyValue("partitions", stats.partitions())
                    .addKeyValue("requests", stats.kafkaRequests()).addKeyValue("duration_ms", stats.duration().toMillis())
                    .log("polled");
            for (Consumer<PollStats> l : pollListeners) {
                try {
                    l.accept(stats);
                } catch (RuntimeException e) {
                    LOG.atError().addKeyValue("cluster", connection.label()).addKeyValue("error", e.toString())
                            .log("poll listener failed");
                }
            }
            return stats;
        }

        private void deliver(Registration r, TriggerResult result) {
            try {
                r.listener.accept(result);
            } catch (RuntimeException e) {
                LOG.atError().addKeyValue("trigger", r.key).addKeyValue("error", e.toString()).log("result listener failed");
            }
        }

        private void scheduleAt(Instant at) {
            // While a tick polls, its end schedules the next one from every trigger's due time (which a reschedule,
            // a record or a new trigger has already moved): scheduling another now would queue a second tick behind
            // it, and with a thousand reconciles in a poll, hundreds of empty polls in a row.
            if (closed || ticking || (wakeUp != null && !wakeUp.isDone() && !at.isBefore(wakeAt))) {
                return;
            }
            if (wakeUp != null) {
                wakeUp.cancel(false);
            }
            wakeAt = at;
            long delay = PollSchedule.tickDelay(at.equals(Instant.MIN) ? Duration.ZERO
                    : Duration.between(options.clock().instant(), at), Duration.ofNanos(System.nanoTime() - lastTickNanos),
                    TICK_SPACING).toMillis();
            // The shared scheduler only hands the poll to this cluster's own thread.
            wakeUp = scheduler.schedule(() -> {
                try {
                    pollThread.execute(this::tick);
                } catch (java.util.concurrent.RejectedExecutionException e) {
                    // the cluster was removed or the engine closed
                }
            }, delay, TimeUnit.MILLISECONDS);
        }

        /**
         * One scheduled poll. Whatever it throws (a listener, the watcher's update), the next poll is scheduled from
         * every trigger's due time: the loop never ends but with the cluster.
         */
        private void tick() {
            synchronized (this) {
                wakeUp = null;
                wakeAt = Instant.MAX;
                if (registrations.isEmpty() || closed) {
                    return;
                }
                ticking = true;
                lastTickNanos = System.nanoTime();
            }
            try {
                poll(false);
            } catch (RuntimeException | LinkageError | AssertionError e) {
                tickFailures.incrementAndGet();
                LOG.atError().addKeyValue("cluster", connection.label()).addKeyValue("error", e.toString())
                        .log("poll failed unexpectedly; the next one is scheduled as usual");
            } finally {
                synchronized (this) {
                    ticking = false;
                    Instant next = Instant.MAX;
                    for (Registration r : registrations) {
                        if (r.nextDue.isBefore(next)) {
                            next = r.nextDue;
                        }
                    }
                    if (!next.equals(Instant.MAX)) {
                        scheduleAt(next);
                    }
                }
            }
        }

        synchronized void close() {
            if (wakeUp != null) {
                wakeUp.cancel(false);
            }
            pollThread.shutdownNow();
            poller.close();
            closeWatcher();
        }
    }
}
