package dev.lagscaler.lag.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lagscaler.lag.ConsumerHealth;
import dev.lagscaler.lag.ConsumerHealth.Status;
import dev.lagscaler.lag.TriggerKey;
import dev.lagscaler.lag.TriggerResult;
import dev.lagscaler.testing.KafkaCluster;
import dev.lagscaler.testing.KafkaTestData;
import dev.lagscaler.testing.WithKafka;
import dev.lagscaler.trigger.KafkaTriggerParser;
import dev.lagscaler.trigger.TriggerInput;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Each of Burrow's states, driven by real consumers committing (or not) on a real broker and judged by the engine
 * over a short window: 4 polls, stall after 3 s, stop after 6 s (the operator's defaults are 10 polls, 60 s, 5 min).
 */
@WithKafka
class ConsumerHealthTest {
    private static final ConsumerHealth.Settings WINDOW =
            new ConsumerHealth.Settings(4, Duration.ofSeconds(3), Duration.ofSeconds(6));
    private final KafkaCluster kafka;
    private final Map<TriggerKey, TriggerResult> results = new ConcurrentHashMap<>();
    /** The engine's clock, moved by the test: the health windows are judged on it, not on the wall clock. */
    private final ManualClock clock = new ManualClock();
    private LagEngine engine;

    /** A clock that stands still until the test moves it. */
    static final class ManualClock extends java.time.Clock {
        private volatile java.time.Instant now = java.time.Instant.parse("2026-12-05T12:00:00Z");

        void advance(Duration by) {
            now = now.plus(by);
        }

        @Override
        public java.time.ZoneId getZone() {
            return java.time.ZoneOffset.UTC;
        }

        @Override
        public java.time.Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public java.time.Instant instant() {
            return now;
        }
    }

    ConsumerHealthTest(KafkaCluster kafka) {
        this.kafka = kafka;
    }

    @BeforeEach
    void startEngine() {
        engine = new LagEngine(LagEngine.Options.defaults().withKafkaTimeout(Duration.ofSeconds(5)).withConsumerHealth(WINDOW)
                .withClock(clock));
    }

    @AfterEach
    void stopEngine() {
        engine.close();
    }

    private LagEngine.Registration register(String group, String topic) throws Exception {
        var settings = KafkaTriggerParser.parse(TriggerInput.ofMetadata(Map.of("bootstrapServers", kafka.bootstrapServers(),
                "consumerGroup", group, "topic", topic)));
        return engine.register(new TriggerKey("health", group, 0), settings, Duration.ofHours(1), r -> results.put(r.key(), r));
    }

    private ConsumerHealth poll(LagEngine.Registration registration) {
        engine.pollNow(registration.settings().connection());
        return assertInstanceOf(TriggerResult.Measured.class, results.get(registration.key())).health();
    }

    private void commit(String group, String topic, long offset) {
        KafkaTestData.commit(kafka.bootstrapServers(), group, Map.of(new TopicPartition(topic, 0), offset));
    }

    @Test
    void aGroupThatKeepsUpIsOkAndOneFallingFurtherBehindAtEveryPollIsWarn() throws Exception {
        KafkaTestData.createTopic(kafka.bootstrapServers(), "health-warn", 1);
        commit("keeps-up", "health-warn", 0);
        commit("falls-behind", "health-warn", 0);
        var keepsUp = register("keeps-up", "health-warn");
        var fallsBehind = register("falls-behind", "health-warn");
        ConsumerHealth ok = null;
        ConsumerHealth warn = null;
        for (int poll = 1; poll <= 5; poll++) {
            KafkaTestData.produce(kafka.bootstrapServers(), "health-warn", 0, 20);
            commit("keeps-up", "health-warn", 20L * poll);  // everything produced so far
            commit("falls-behind", "health-warn", 5L * poll); // a quarter of it
            ok = poll(keepsUp);
            warn = poll(fallsBehind);
            clock.advance(Duration.ofSeconds(1));
        }
        assertEquals(Status.OK, ok.status(), ok.summary());
        assertEquals(Status.WARN, warn.status(), warn.summary());
        assertTrue(warn.summary().contains("grew at each of the last 4 polls"), warn.summary());
    }

    @Test
    void aConsumerThatPollsButNeverCommitsStallsThenStops() throws Exception {
        KafkaTestData.createTopic(kafka.bootstrapServers(), "health-stall", 1);
        KafkaTestData.produce(kafka.bootstrapServers(), "health-stall", 0, 100);
        commit("stuck-app", "health-stall", 10);
        var registration = register("stuck-app", "health-stall");
        // A live member of the group: it fetches on and on (a poison record, a hung handler) but commits nothing.
        AtomicBoolean running = new AtomicBoolean(true);
        Thread member = new Thread(() -> {
            try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(KafkaTestData.consumerProperties(kafka.bootstrapServers(), "stuck-app"))) {
                consumer.subscribe(List.of("health-stall"));
                TopicPartition partition = new TopicPartition("health-stall", 0);
                while (running.get()) {
                    consumer.poll(Duration.ofMillis(200));
                    if (consumer.assignment().contains(partition)) {
                        consumer.seek(partition, 10); // retries the same record
                    }
                }
            }
        });
        member.start();
        try {
            // A poll every 500 ms of the engine's clock for 8 s.
            List<Status> seen = new java.util.ArrayList<>();
            for (int poll = 0; poll < 16; poll++) {
                ConsumerHealth health = poll(registration);
                if (seen.isEmpty() || seen.get(seen.size() - 1) != health.status()) {
                    seen.add(health.status());
                }
                clock.advance(Duration.ofMillis(500));
            }
            assertEquals(List.of(Status.OK, Status.STALL, Status.STOP), seen,
                    "standing at 10 with 90 waiting: OK until 3 s, STALL until 6 s, then STOP");
            ConsumerHealth stopped = poll(registration);
            assertTrue(stopped.summary().contains("committed offset 10 on health-stall-0 has not moved"), stopped.summary());
            // It commits again: healthy at the next poll.
            running.set(false);
            member.join(10_000);
            commit("stuck-app", "health-stall", 100);
            clock.advance(Duration.ofMillis(500));
            assertEquals(Status.OK, poll(registration).status());
        } finally {
            running.set(false);
            member.join(10_000);
        }
    }

    @Test
    void aCommittedOffsetMovedBackIsRewind() throws Exception {
        KafkaTestData.createTopic(kafka.bootstrapServers(), "health-rewind", 1);
        KafkaTestData.produce(kafka.bootstrapServers(), "health-rewind", 0, 60);
        commit("replayer", "health-rewind", 50);
        var registration = register("replayer", "health-rewind");
        assertEquals(Status.OK, poll(registration).status());
        clock.advance(Duration.ofSeconds(1));
        commit("replayer", "health-rewind", 10); // an offset reset to replay
        ConsumerHealth rewound = poll(registration);
        assertEquals(Status.REWIND, rewound.status(), rewound.summary());
        assertTrue(rewound.summary().contains("moved back from 50 to 10"), rewound.summary());
    }
}
