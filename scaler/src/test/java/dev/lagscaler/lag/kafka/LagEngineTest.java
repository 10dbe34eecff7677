package dev.lagscaler.lag.kafka;

import dev.lagscaler.lag.LagResult;
import dev.lagscaler.lag.PollStats;
import dev.lagscaler.lag.TriggerError;
import dev.lagscaler.lag.TriggerKey;
import dev.lagscaler.lag.TriggerResult;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lagscaler.testing.ChildProcess;
import dev.lagscaler.testing.KafkaCluster;
import dev.lagscaler.testing.KafkaTestData;
import dev.lagscaler.testing.WithKafka;
import dev.lagscaler.trigger.KafkaTriggerParser;
import dev.lagscaler.trigger.KafkaTriggerSettings;
import dev.lagscaler.trigger.TriggerInput;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The lag engine against a real KRaft broker: real records, real commits, real deletions. */
@WithKafka
class LagEngineTest {
    private final KafkaCluster kafka;
    private LagEngine engine;
    private final Map<TriggerKey, TriggerResult> results = new ConcurrentHashMap<>();

    LagEngineTest(KafkaCluster kafka) {
        this.kafka = kafka;
    }

    @BeforeEach
    void startEngine() {
        engine = new LagEngine(LagEngine.Options.defaults().withKafkaTimeout(Duration.ofSeconds(5)));
    }

    @AfterEach
    void stopEngine() {
        engine.close();
    }

    private KafkaTriggerSettings trigger(String... keyValues) throws Exception {
        Map<String, String> m = new HashMap<>(Map.of("bootstrapServers", kafka.bootstrapServers()));
        for (int i = 0; i < keyValues.length; i += 2) {
            m.put(keyValues[i], keyValues[i + 1]);
        }
        return KafkaTriggerParser.parse(TriggerInput.ofMetadata(m));
    }

    /** Registers with a long interval so only {@link LagEngine#pollNow} polls (after the first, immediate one). */
    private LagEngine.Registration register(String name, KafkaTriggerSettings settings) {
        TriggerKey key = new TriggerKey("test", name, 0);
        return engine.register(key, settings, Duration.ofHours(1), r -> results.put(r.key(), r));
    }

    private TriggerResult pollFresh(LagEngine.Registration registration) {
        engine.pollNow(registration.settings().connection());
        return results.get(registration.key());
    }

    @Test
    void measuresPerPartitionLagFromRealCommits() throws Exception {
        KafkaTestData.createTopic(kafka.bootstrapServers(), "orders", 3);
        KafkaTestData.produce(kafka.bootstrapServers(), "orders", 0, 100);
        KafkaTestData.produce(kafka.bootstrapServers(), "orders", 1, 40);
        KafkaTestData.produce(kafka.bootstrapServers(), "orders", 2, 5);
        KafkaTestData.commit(kafka.bootstrapServers(), "orders-app", Map.of(
                new TopicPartition("orders", 0), 70L, new TopicPartition("orders", 1), 40L, new TopicPartition("orders", 2), 0L));

        var reg = register("orders", trigger("consumerGroup", "orders-app", "topic", "orders", "lagThreshold", "5"));
        LagResult lag = assertInstanceOf(TriggerResult.Measured.class, pollFresh(reg)).lag();
        assertEquals(35, lag.rawTotalLag());
        assertEquals(15, lag.metricValue(), "35 / 5 = 7 > 3 partitions: capped at 3 x 5");
        assertTrue(lag.active());
        Map<Integer, Long> perPartition = new HashMap<>();
        lag.partitions().forEach(p -> perPartition.put(p.offsets().partition(), p.lag()));
        assertEquals(Map.of(0, 30L, 1, 0L, 2, 5L), perPartition);

        KafkaTestData.commit(kafka.bootstrapServers(), "orders-app", Map.of(
                new TopicPartition("orders", 0), 100L, new TopicPartition("orders", 2), 5L));
        LagResult drained = assertInstanceOf(TriggerResult.Measured.class, pollFresh(reg)).lag();
        assertEquals(0, drained.metricValue());
        assertTrue(!drained.active());
    }

    @Test
    void groupWithoutCommitsFollowsTheResetPolicy() throws Exception {
        KafkaTestData.createTopic(kafka.bootstrapServers(), "fresh", 2);
        KafkaTestData.produce(kafka.bootstrapServers(), "fresh", 0, 12);
        KafkaTestData.produce(kafka.bootstrapServers(), "fresh", 1, 3);
        var latest = register("latest", trigger("consumerGroup", "nobody", "topic", "fresh", "lagThreshold", "100"));
        var earliest = register("earliest", trigger("consumerGroup", "nobody", "topic", "fresh", "lagThreshold", "100",
                "offsetResetPolicy", "earliest"));
        engine.pollNow(latest.settings().connection());
        assertEquals(2, ((TriggerResult.Measured) results.get(latest.key())).lag().metricValue(), "1 per partition");
        assertEquals(15, ((TriggerResult.Measured) results.get(earliest.key())).lag().metricValue(), "log-end offsets");

        // Retention (here deleteRecords) moves the log start: earliest counts what is still retained (KEDA 2.21).
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))) {
            admin.deleteRecords(Map.of(new TopicPartition("fresh", 0),
                    org.apache.kafka.clients.admin.RecordsToDelete.beforeOffset(10))).all().get(30, TimeUnit.SECONDS);
        }
        engine.pollNow(latest.settings().connection());
        assertEquals(5, ((TriggerResult.Measured) results.get(earliest.key())).lag().metricValue(),
                "12 - 10 retained on partition 0, 3 on partition 1");
        assertEquals(2, ((TriggerResult.Measured) results.get(latest.key())).lag().metricValue(), "latest unchanged");
    }

    @Test
    void theFirstRecordOnAWatchedPartitionWakesTheTriggerWithoutWaitingForItsPoll() throws Exception {
        KafkaTestData.createTopic(kafka.bootstrapServers(), "sleepy", 3);
        KafkaTestData.commit(kafka.bootstrapServers(), "sleepy-app", Map.of(new TopicPartition("sleepy", 0), 0L,
                new TopicPartition("sleepy", 1), 0L, new TopicPartition("sleepy", 2), 0L));
        var reg = register("sleepy", trigger("consumerGroup", "sleepy-app", "topic", "sleepy"));
        assertEquals(0, assertInstanceOf(TriggerResult.Measured.class, pollFresh(reg)).lag().rawTotalLag());
        reg.watchForRecords(true);
        // Parked: its positions are resolved at the log end, so the record below arrives after them.
        ChildProcess.await("the wake-up consumer parked on the 3 partitions", Duration.ofSeconds(10), Duration.ofMillis(50),
                () -> engine.wakeUpState().values().stream().anyMatch(s -> s.partitions() == 3));
        long wokenMs = millisToWake(reg, "sleepy", 2, Duration.ofSeconds(5));
        assertTrue(wokenMs < 2000, "woken " + wokenMs + " ms after the record");
        reg.watchForRecords(false);
        ChildProcess.await("the consumer stops watching", Duration.ofSeconds(5), Duration.ofMillis(50),
                () -> engine.wakeUpState().values().stream().allMatch(s -> s.partitions() == 0));
    }

    /**
     * The wake-up consumer's fetch waits 5 s at the broker, and no new fetch goes to a broker while one waits: a
     * partition added meanwhile is watched at once all the same (the consumer is replaced), and a record that arrives
     * on an already watched partition while it is replaced still wakes its trigger.
     */
    @Test
    void aPartitionAddedWhileAFetchWaitsIsWatchedAtOnce() throws Exception {
        List<LagEngine.Registration> regs = new ArrayList<>();
        for (String topic : List.of("early", "late", "later")) {
            KafkaTestData.createTopic(kafka.bootstrapServers(), topic, 1);
            KafkaTestData.commit(kafka.bootstrapServers(), topic + "-app", Map.of(new TopicPartition(topic, 0), 0L));
            regs.add(register(topic, trigger("consumerGroup", topic + "-app", "topic", topic)));
            pollFresh(regs.get(regs.size() - 1));
        }
        var early = regs.get(0);
        var late = regs.get(1);
        early.watchForRecords(true);
        ChildProcess.await("parked on early and fetching", Duration.ofSeconds(10), Duration.ofMillis(10),
                () -> engine.wakeUpState().values().stream().anyMatch(s -> s.partitions() == 1 && s.fetching()));
        int replaced = engine.wakeUpState().values().iterator().next().replacements();
        late.watchForRecords(true);
        ChildProcess.await("parked on early and late", Duration.ofSeconds(10), Duration.ofMillis(50),
                () -> engine.wakeUpState().values().stream().anyMatch(s -> s.partitions() == 2));
        long wokenMs = millisToWake(late, "late", 0, Duration.ofSeconds(10));
        assertTrue(wokenMs < 2000, "the added partition woke its trigger " + wokenMs + " ms after the record");
        assertTrue(engine.wakeUpState().values().iterator().next().replacements() > replaced,
                "added while a fetch could wait: the consumer was replaced, not left to finish its wait");

        regs.get(2).watchForRecords(true);
        millisToWake(early, "early", 0, Duration.ofSeconds(10)); // the record arrives while the consumer is replaced
        regs.forEach(r -> r.watchForRecords(false));
    }

    /**
     * A poll listener that throws (here on the first poll) ends neither that poll's results nor the polls after it.
     * Before, the exception skipped scheduling the next poll and nothing restarted it.
     */
    @Test
    void aPollListenerThatThrowsStopsNoPolling() throws Exception {
        KafkaTestData.createTopic(kafka.bootstrapServers(), "listened", 1);
        java.util.concurrent.atomic.AtomicInteger polls = new java.util.concurrent.atomic.AtomicInteger();
        engine.addPollListener(stats -> {
            if (polls.incrementAndGet() == 1) {
                throw new IllegalStateException("a listener's own bug");
            }
        });
        List<TriggerResult> seen = java.util.Collections.synchronizedList(new ArrayList<>());
        engine.register(new TriggerKey("test", "listened", 0), trigger("consumerGroup", "listened-app", "topic", "listened"),
                Duration.ofMillis(200), seen::add);
        ChildProcess.await("polls go on after the listener threw", Duration.ofSeconds(30), Duration.ofMillis(20),
                () -> seen.size() >= 4);
        assertTrue(polls.get() >= 4, polls.get() + " polls seen by the listener");
    }

    /**
     * A wake-up consumer that cannot be built (here its first two constructions throw, as a refused login would) is
     * reported unhealthy with the reason and its restarts, built again with backoff, and then wakes its trigger.
     * Before, the construction sat outside the watcher's guard: the thread died, and the trigger was counted as
     * watched and never woken.
     */
    @Test
    void aWakeUpConsumerThatCannotBeBuiltIsRetriedAndThenWakes() throws Exception {
        java.util.concurrent.atomic.AtomicInteger builds = new java.util.concurrent.atomic.AtomicInteger();
        engine.close();
        engine = new LagEngine(LagEngine.Options.defaults().withKafkaTimeout(Duration.ofSeconds(5))
                .withWakeUpConsumerFactory(config -> {
                    if (builds.incrementAndGet() <= 2) {
                        throw new org.apache.kafka.common.KafkaException("Failed to construct kafka consumer: login refused");
                    }
                    return new org.apache.kafka.clients.consumer.KafkaConsumer<>(config);
                }));
        KafkaTestData.createTopic(kafka.bootstrapServers(), "unbuilt", 1);
        KafkaTestData.commit(kafka.bootstrapServers(), "unbuilt-app", Map.of(new TopicPartition("unbuilt", 0), 0L));
        var reg = register("unbuilt", trigger("consumerGroup", "unbuilt-app", "topic", "unbuilt"));
        assertEquals(0, assertInstanceOf(TriggerResult.Measured.class, pollFresh(reg)).lag().rawTotalLag());
        reg.watchForRecords(true);
        ChildProcess.await("the failure reported", Duration.ofSeconds(10), Duration.ofMillis(10),
                () -> engine.wakeUpState().values().stream().anyMatch(s -> !s.healthy() && s.restarts() >= 1
                        && s.lastError() != null && s.lastError().contains("login refused")));
        ChildProcess.await("built again and fetching", Duration.ofSeconds(30), Duration.ofMillis(20),
                () -> engine.wakeUpState().values().stream().anyMatch(s -> s.healthy() && s.partitions() == 1));
        assertEquals(2, engine.wakeUpState().values().iterator().next().restarts());
        assertEquals(3, builds.get());
        long wokenMs = millisToWake(reg, "unbuilt", 0, Duration.ofSeconds(10));
        assertTrue(wokenMs < 4000, "woken " + wokenMs + " ms after the record (its safety-net poll is an hour away)");
    }

    /**
     * Produces one record to the trigger's idle partition and waits until the trigger reports it: its interval is an
     * hour, so only the wake-up consumer can bring that result. The milliseconds it took.
     */
    private long millisToWake(LagEngine.Registration reg, String topic, int partition, Duration within) throws Exception {
        long produced = System.nanoTime();
        KafkaTestData.produce(kafka.bootstrapServers(), topic, partition, 1);
        ChildProcess.await(topic + " woken by the record", within, Duration.ofMillis(5),
                () -> results.get(reg.key()) instanceof TriggerResult.Measured m && m.lag().rawTotalLag() == 1);
        return (System.nanoTime() - produced) / 1_000_000;
    }

    @Test
    void timeLagFollowsAConsumerThatFallsBehindAtAKnownRate() throws Exception {
        KafkaTestData.createTopic(kafka.bootstrapServers(), "timed", 1);
        KafkaTestData.commit(kafka.bootstrapServers(), "timed-app", Map.of(new TopicPartition("timed", 0), 0L));
        var reg = register("timed", trigger("consumerGroup", "timed-app", "topic", "timed"));
        TriggerResult.Measured first = assertInstanceOf(TriggerResult.Measured.class, pollFresh(reg));
        assertEquals(0.0, first.timeLag().maxSeconds(), "nothing waits yet");
        // 10 records a second for 8 s, polled each second; the consumer stops after the first 20 records.
        long[] producedAt = new long[8];
        for (int i = 0; i < 8; i++) {
            producedAt[i] = System.currentTimeMillis();
            KafkaTestData.produce(kafka.bootstrapServers(), "timed", 0, 10);
            pollFresh(reg);
            Thread.sleep(1000);
        }
        KafkaTestData.commit(kafka.bootstrapServers(), "timed-app", Map.of(new TopicPartition("timed", 0), 20L));
        TriggerResult.Measured behind = assertInstanceOf(TriggerResult.Measured.class, pollFresh(reg));
        double expected = (System.currentTimeMillis() - producedAt[2]) / 1000.0;
        assertEquals(60, behind.lag().rawTotalLag());
        assertEquals(expected, behind.timeLag().maxSeconds(), 1.5,
                "record 20 was produced about " + expected + " s ago (tolerance: one poll interval and a half)");
        // A group that committed before the history began: no made-up figure.
        KafkaTestData.commit(kafka.bootstrapServers(), "timed-app", Map.of(new TopicPartition("timed", 0), 0L));
        var late = register("timed-late", trigger("consumerGroup", "timed-app", "topic", "timed"));
        TriggerResult.Measured unknown = assertInstanceOf(TriggerResult.Measured.class, pollFresh(late));
        assertEquals(80, unknown.lag().rawTotalLag());
        assertTrue(unknown.timeLag().maxSeconds() == null || unknown.timeLag().maxSeconds() >= expected,
                "either unknown or at least as old: " + unknown.timeLag());
    }

    @Test
    void triggerWithoutTopicFollowsEveryCommittedTopic() throws Exception {
        KafkaTestData.createTopic(kafka.bootstrapServers(), "multi-a", 1);
        KafkaTestData.createTopic(kafka.bootstrapServers(), "multi-b", 2);
        KafkaTestData.produce(kafka.bootstrapServers(), "multi-a", 0, 10);
        KafkaTestData.produce(kafka.bootstrapServers(), "multi-b", 1, 20);
        KafkaTestData.commit(kafka.bootstrapServers(), "multi-app", Map.of(
                new TopicPartition("multi-a", 0), 4L, new TopicPartition("multi-b", 1), 18L));
        var reg = register("multi", trigger("consumerGroup", "multi-app", "lagThreshold", "100"));
        LagResult lag = assertInstanceOf(TriggerResult.Measured.class, pollFresh(reg)).lag();
        // multi-b partition 0 has no commit: lag 1 under the latest policy.
        assertEquals(6 + 2 + 1, lag.metricValue());
        assertEquals(3, lag.partitionCount());
    }

    @Test
    void deletedTopicIsATypedErrorForItsTriggerOnly() throws Exception {
        KafkaTestData.createTopic(kafka.bootstrapServers(), "doomed", 1);
        KafkaTestData.createTopic(kafka.bootstrapServers(), "kept", 1);
        var doomed = register("doomed", trigger("consumerGroup", "g-doomed", "topic", "doomed"));
        var kept = register("kept", trigger("consumerGroup", "g-kept", "topic", "kept"));
        assertInstanceOf(TriggerResult.Measured.class, pollFresh(doomed));
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))) {
            admin.deleteTopics(List.of("doomed")).all().get(30, TimeUnit.SECONDS);
        }
        ChildProcess.await("the deleted topic to be reported missing", Duration.ofSeconds(30), Duration.ofMillis(200),
                () -> pollFresh(doomed) instanceof TriggerResult.Failed f && f.error().kind() == TriggerError.Kind.TOPIC_MISSING);
        assertInstanceOf(TriggerResult.Measured.class, results.get(kept.key()), "the other trigger is unaffected");
        var missing = register("never", trigger("consumerGroup", "g-never", "topic", "never-created"));
        TriggerResult.Failed failed = assertInstanceOf(TriggerResult.Failed.class, pollFresh(missing));
        assertEquals(TriggerError.Kind.TOPIC_MISSING, failed.error().kind());
        assertTrue(failed.error().message().contains("never-created"), failed.error().message());
    }

    @Test
    void unreachableBrokerIsATypedErrorAndOtherClustersStillWork() throws Exception {
        int closedPort = ChildProcess.freePort();
        KafkaTestData.createTopic(kafka.bootstrapServers(), "healthy", 1);
        Map<String, String> m = Map.of("bootstrapServers", "127.0.0.1:" + closedPort, "consumerGroup", "g", "topic", "t");
        var dead = register("dead", KafkaTriggerParser.parse(TriggerInput.ofMetadata(m)));
        var alive = register("alive", trigger("consumerGroup", "g-alive", "topic", "healthy"));
        assertEquals(2, engine.clusterCount(), "one shared client per cluster");
        TriggerResult.Failed failed = assertInstanceOf(TriggerResult.Failed.class, pollFresh(dead));
        assertEquals(TriggerError.Kind.BROKER_UNREACHABLE, failed.error().kind());
        assertInstanceOf(TriggerResult.Measured.class, pollFresh(alive));
    }

    @Test
    void fiftyGroupsShareOneClientAndABoundedNumberOfRequests() throws Exception {
        KafkaTestData.createTopic(kafka.bootstrapServers(), "shared", 4);
        List<LagEngine.Registration> regs = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            KafkaTestData.produce(kafka.bootstrapServers(), "shared", i % 4, 1);
        }
        Map<TopicPartition, Long> commit = Map.of(new TopicPartition("shared", 0), 1L);
        for (int i = 0; i < 50; i++) {
            KafkaTestData.commit(kafka.bootstrapServers(), "group-" + i, commit);
            regs.add(register("so-" + i, trigger("consumerGroup", "group-" + i, "topic", "shared")));
        }
        assertEquals(1, engine.clusterCount());
        engine.pollNow(regs.get(0).settings().connection()); // warms the topic cache and coordinator lookups
        PollStats stats = engine.pollNow(regs.get(0).settings().connection()).orElseThrow();
        assertEquals(50, stats.triggers());
        assertEquals(50, stats.groups());
        // One broker: FindCoordinator + OffsetFetch (batched) + ListOffsets, plus at most a metadata refresh.
        assertTrue(stats.kafkaRequests() <= 2 * kafka.brokerCount() + 1 + 2,
                "requests per poll: " + stats.kafkaRequests());
        assertTrue(stats.kafkaRequests() >= 2, "the counter counts: " + stats.kafkaRequests());
        for (var reg : regs) {
            assertInstanceOf(TriggerResult.Measured.class, results.get(reg.key()));
        }
    }

    @Test
    void shorterIntervalTakesEffectAtOnce() throws Exception {
        KafkaTestData.createTopic(kafka.bootstrapServers(), "fast", 1);
        List<TriggerResult> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        var reg = engine.register(new TriggerKey("test", "fast", 0), trigger("consumerGroup", "g-fast", "topic", "fast"),
                Duration.ofHours(1), seen::add);
        ChildProcess.await("first poll", Duration.ofSeconds(20), Duration.ofMillis(50), () -> seen.size() >= 1);
        reg.setInterval(Duration.ofMillis(200));
        ChildProcess.await("fast polls", Duration.ofSeconds(20), Duration.ofMillis(50), () -> seen.size() >= 4);
    }

    /**
     * Before: every cluster shared two poll threads and a cluster's monitor was held across its Kafka calls, so two
     * unreachable clusters stalled every other cluster's polls for the whole Kafka timeout.
     */
    @Test
    void unreachableClustersDoNotDelayAHealthyOne() throws Exception {
        KafkaTestData.createTopic(kafka.bootstrapServers(), "steady", 1);
        List<java.net.ServerSocket> blackholes = new ArrayList<>();
        List<Long> healthy = java.util.Collections.synchronizedList(new ArrayList<>());
        Map<TriggerKey, TriggerResult> stuck = new ConcurrentHashMap<>();
        List<java.net.Socket> held = java.util.Collections.synchronizedList(new ArrayList<>());
        java.util.concurrent.atomic.AtomicInteger accepted = new java.util.concurrent.atomic.AtomicInteger();
        try {
            // Listening sockets that accept and never answer: each cluster's client connects and waits.
            for (int i = 0; i < 3; i++) {
                java.net.ServerSocket socket = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
                blackholes.add(socket);
                Thread acceptor = new Thread(() -> {
                    try {
                        while (true) {
                            held.add(socket.accept());
                            accepted.incrementAndGet();
                        }
                    } catch (java.io.IOException closed) {
                        // the test is over
                    }
                }, "blackhole-" + i);
                acceptor.setDaemon(true);
                acceptor.start();
                KafkaTriggerSettings hole = KafkaTriggerParser.parse(TriggerInput.ofMetadata(Map.of(
                        "bootstrapServers", "127.0.0.1:" + blackholes.get(i).getLocalPort(), "consumerGroup", "g",
                        "topic", "steady")));
                engine.register(new TriggerKey("test", "hole-" + i, 0), hole, Duration.ofMillis(500),
                        r -> stuck.put(r.key(), r));
            }
            ChildProcess.await("every blackholed cluster connected and waiting on Kafka", Duration.ofSeconds(10),
                    Duration.ofMillis(10), () -> accepted.get() >= 3);
            engine.register(new TriggerKey("test", "healthy", 0), trigger("consumerGroup", "steady-app", "topic", "steady"),
                    Duration.ofMillis(500), r -> healthy.add(System.nanoTime()));
            // Eight polls of the healthy cluster while the blackholed ones wait out their 5 s Kafka timeout.
            ChildProcess.await("eight polls of the healthy cluster", Duration.ofSeconds(20), Duration.ofMillis(20),
                    () -> healthy.size() >= 8);
            List<Long> times = new ArrayList<>(healthy);
            long maxGap = 0;
            for (int i = 1; i < times.size(); i++) {
                maxGap = Math.max(maxGap, (times.get(i) - times.get(i - 1)) / 1_000_000);
            }
            assertTrue(maxGap < 2_500, "the healthy cluster waited " + maxGap + " ms between polls (Kafka timeout 5 s)");
            ChildProcess.await("every blackholed trigger reported", Duration.ofSeconds(30), Duration.ofMillis(50),
                    () -> stuck.size() == 3);
            stuck.values().forEach(r -> assertEquals(TriggerError.Kind.BROKER_UNREACHABLE,
                    assertInstanceOf(TriggerResult.Failed.class, r).error().kind(), r.toString()));
        } finally {
            for (java.net.ServerSocket s : blackholes) {
                s.close();
            }
            for (java.net.Socket s : held) {
                s.close();
            }
        }
    }
}
