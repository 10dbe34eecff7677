package dev.lagscaler.bench;

import dev.lagscaler.lag.TriggerKey;
import dev.lagscaler.lag.kafka.LagEngine;
import dev.lagscaler.testing.EmbeddedKafka;
import dev.lagscaler.testing.KafkaTestData;
import dev.lagscaler.trigger.KafkaTriggerParser;
import dev.lagscaler.trigger.TriggerInput;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The lag engine alone, without the operator: N triggers at zero (1 s interval) watched by the wake-up consumer; counts
 * the batched polls in 20 s. Run: {@code java -cp "bench/target/classes:bench/target/lib/*"
 * dev.lagscaler.bench.WatchedPollsProbe 1000} after {@code ./mvnw -Pbench -pl bench -am -DskipTests package}.
 * Measured: 4 polls of all 1,000 triggers in 20 s, as designed; in the operator the same triggers are polled far more
 * often (bench/results/idle-cost.md), so the extra polls come from the controller's side, not the engine's schedule.
 */
public final class WatchedPollsProbe {
    private WatchedPollsProbe() {
    }

    public static void main(String[] args) throws Exception {
        int n = Integer.parseInt(args[0]);
        try (EmbeddedKafka kafka = EmbeddedKafka.start(EmbeddedKafka.Options.singleNode())) {
            for (int t = 0; t < (n + 2) / 3; t++) {
                KafkaTestData.createTopic(kafka.bootstrapServers(), "topic-" + t, 3);
            }
            try (LagEngine engine = new LagEngine(LagEngine.Options.defaults())) {
                AtomicInteger polls = new AtomicInteger();
                AtomicLong triggers = new AtomicLong();
                engine.addPollListener(s -> {
                    polls.incrementAndGet();
                    triggers.addAndGet(s.triggers());
                });
                List<LagEngine.Registration> regs = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    var settings = KafkaTriggerParser.parse(TriggerInput.ofMetadata(Map.of("bootstrapServers",
                            kafka.bootstrapServers(), "consumerGroup", "group-" + i, "topic", "topic-" + (i % ((n + 2) / 3)),
                            "scaleToZeroOnInvalidOffset", "true")));
                    regs.add(engine.register(new TriggerKey("ns", "so-" + i, 0), settings, Duration.ofSeconds(1), r -> { }));
                }
                Thread.sleep(5000);
                regs.forEach(r -> r.watchForRecords(true));
                Thread.sleep(10000);
                polls.set(0);
                triggers.set(0);
                Thread.sleep(20000);
                System.out.println("PROBE polls in 20 s: " + polls.get() + ", trigger-polls: " + triggers.get()
                        + ", wake-up: " + engine.wakeUpState());
            }
        }
        System.exit(0);
    }
}
