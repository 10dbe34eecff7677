package dev.lagscaler.bench;

import dev.lagscaler.auth.KafkaClientConfig;
import dev.lagscaler.lag.kafka.LagEngine;
import dev.lagscaler.lag.PollStats;
import dev.lagscaler.lag.TriggerKey;
import dev.lagscaler.lag.TriggerResult;
import dev.lagscaler.testing.EmbeddedKafka;
import dev.lagscaler.trigger.ClusterConnection;
import dev.lagscaler.trigger.KafkaTriggerParser;
import dev.lagscaler.trigger.KafkaTriggerSettings;
import dev.lagscaler.trigger.TriggerInput;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsSpec;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * The shared, batched lag engine against KEDA's approach (one Admin client per trigger, each describing its topic,
 * fetching its group's offsets and its partitions' log-end offsets) on the same real 3-broker cluster, in one run.
 *
 * <p>Arguments (all optional): groups, total partitions, brokers, polls. Results go to bench/results/.
 */
public final class LagEngineBenchmark {
    public static void main(String[] args) throws Exception {
        run(args);
        // Informer and client threads of the in-process operator are not daemons: end the JVM once results are written.
        System.exit(0);
    }

    private static void run(String[] args) throws Exception {
        int groups = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        int partitions = args.length > 1 ? Integer.parseInt(args[1]) : 30_000;
        int brokers = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        int polls = args.length > 3 ? Integer.parseInt(args[3]) : 5;
        int perTopic = partitions / groups;
        Path results = Path.of(System.getProperty("bench.results", "bench/results"));
        Files.createDirectories(results);

        log("starting %d-broker embedded cluster", brokers);
        try (EmbeddedKafka kafka = EmbeddedKafka.start(EmbeddedKafka.Options.singleNode().withBrokers(brokers)
                .withHeap("2g").withOffsetsTopicPartitions(50))) {
            String bootstrap = kafka.bootstrapServers();
            Instant setup = Instant.now();
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                    AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "600000", AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "300000"))) {
                List<String> names = new ArrayList<>();
                Map<String, Map<TopicPartition, OffsetAndMetadata>> offsets = new HashMap<>();
                for (int i = 0; i < groups; i++) {
                    names.add(topic(i));
                    Map<TopicPartition, OffsetAndMetadata> start = new HashMap<>();
                    for (int p = 0; p < perTopic; p++) {
                        start.put(new TopicPartition(topic(i), p), new OffsetAndMetadata(0));
                    }
                    offsets.put(group(i), start);
                }
                BenchKafka.createTopics(admin, names, perTopic, 50);
                BenchKafka.commitUntilAccepted(admin, offsets, Duration.ofSeconds(5));
            }
            log("set up %d groups over %d topics x %d partitions in %ds", groups, groups, perTopic,
                    Duration.between(setup, Instant.now()).toSeconds());

            List<KafkaTriggerSettings> triggers = new ArrayList<>();
            for (int i = 0; i < groups; i++) {
                triggers.add(KafkaTriggerParser.parse(TriggerInput.ofMetadata(Map.of("bootstrapServers", bootstrap,
                        "consumerGroup", group(i), "topic", topic(i)))));
            }
            Result shared = shared(triggers, polls);
            Result perTrigger = perTrigger(triggers, polls);
            write(results, groups, groups * perTopic, brokers, shared, perTrigger);
        }
    }

    /** What one approach cost per poll of every trigger. */
    record Result(String name, List<Long> pollMillis, List<Long> requests, long failures, long heapMiB, int clients) {
        long medianMillis() {
            return median(pollMillis);
        }

        long medianRequests() {
            return median(requests);
        }

        private static long median(List<Long> values) {
            List<Long> sorted = new ArrayList<>(values);
            sorted.sort(null);
            return sorted.get(sorted.size() / 2);
        }
    }

    private static Result shared(List<KafkaTriggerSettings> triggers, int polls) throws Exception {
        log("shared engine: registering %d triggers", triggers.size());
        Map<TriggerKey, TriggerResult> latest = new ConcurrentHashMap<>();
        try (LagEngine engine = new LagEngine(LagEngine.Options.defaults().withKafkaTimeout(Duration.ofSeconds(60)))) {
            ClusterConnection connection = triggers.get(0).connection();
            for (int i = 0; i < triggers.size(); i++) {
                engine.register(new TriggerKey("bench", "so-" + i, 0), triggers.get(i), Duration.ofDays(1),
                        r -> latest.put(r.key(), r));
            }
            engine.pollNow(connection); // warm-up: topic metadata, coordinators, connections
            List<Long> millis = new ArrayList<>();
            List<Long> requests = new ArrayList<>();
            for (int i = 0; i < polls; i++) {
                PollStats stats = engine.pollNow(connection).orElseThrow();
                millis.add(stats.duration().toMillis());
                requests.add(stats.kafkaRequests());
                log("shared poll %d: %d ms, %d requests, %d triggers", i, stats.duration().toMillis(),
                        stats.kafkaRequests(), stats.triggers());
            }
            long failures = latest.values().stream().filter(r -> r instanceof TriggerResult.Failed).count();
            return new Result("shared batched engine", millis, requests, failures, heapMiB(), engine.clusterCount());
        }
    }

    /** KEDA's shape: a client per trigger; each poll describes the topic, fetches offsets and log-end offsets. */
    private static Result perTrigger(List<KafkaTriggerSettings> triggers, int polls) throws Exception {
        log("one client per trigger: creating %d Admin clients", triggers.size());
        List<Admin> admins = new ArrayList<>();
        for (int i = 0; i < triggers.size(); i++) {
            Map<String, Object> config = KafkaClientConfig.admin(triggers.get(i).connection(), "keda-style-" + i);
            config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 60_000);
            admins.add(Admin.create(config));
        }
        // KEDA polls each ScaledObject from its own goroutine; a pool stands in for them.
        ExecutorService pool = Executors.newFixedThreadPool(64);
        try {
            AtomicLong failures = new AtomicLong();
            pollAll(triggers, admins, pool, failures); // warm-up: connections
            List<Long> millis = new ArrayList<>();
            List<Long> requests = new ArrayList<>();
            for (int i = 0; i < polls; i++) {
                long before = requestTotal(admins);
                long start = System.nanoTime();
                pollAll(triggers, admins, pool, failures);
                long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                long sent = requestTotal(admins) - before;
                millis.add(ms);
                requests.add(sent);
                log("per-trigger poll %d: %d ms, %d requests", i, ms, sent);
            }
            return new Result("one Admin client per trigger (KEDA's approach)", millis, requests, failures.get(),
                    heapMiB(), admins.size());
        } finally {
            pool.shutdownNow();
            admins.forEach(a -> a.close(Duration.ZERO));
        }
    }

    private static void pollAll(List<KafkaTriggerSettings> triggers, List<Admin> admins, ExecutorService pool,
                                AtomicLong failures) throws Exception {
        List<Future<?>> futures = new ArrayList<>();
        for (int i = 0; i < triggers.size(); i++) {
            KafkaTriggerSettings s = triggers.get(i);
            Admin admin = admins.get(i);
            futures.add(pool.submit(() -> {
                try {
                    TopicDescription d = admin.describeTopics(List.of(s.topic())).allTopicNames().get().get(s.topic());
                    Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(
                            Map.of(s.consumerGroup(), new ListConsumerGroupOffsetsSpec())).partitionsToOffsetAndMetadata().get();
                    Map<TopicPartition, OffsetSpec> wanted = new HashMap<>();
                    d.partitions().forEach(p -> wanted.put(new TopicPartition(s.topic(), p.partition()), OffsetSpec.latest()));
                    admin.listOffsets(wanted).all().get();
                    if (committed.isEmpty()) {
                        failures.incrementAndGet();
                    }
                } catch (Exception e) {
                    failures.incrementAndGet();
                }
            }));
        }
        for (Future<?> f : futures) {
            f.get();
        }
    }

    private static long requestTotal(List<Admin> admins) {
        long total = 0;
        for (Admin admin : admins) {
            for (var e : admin.metrics().entrySet()) {
                if (e.getKey().name().equals("request-total") && e.getKey().group().equals("admin-client-metrics")) {
                    total += ((Number) e.getValue().metricValue()).longValue();
                }
            }
        }
        return total;
    }

    private static long heapMiB() {
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() / (1024 * 1024);
    }

    private static void write(Path dir, int groups, int partitions, int brokers, Result shared, Result perTrigger)
            throws Exception {
        int batch = 1000;
        long goal = 2L * brokers + (groups + batch - 1) / batch;
        StringBuilder md = new StringBuilder();
        md.append("# Lag engine benchmark\n\n");
        md.append("Run ").append(Instant.now()).append(" on ").append(Runtime.getRuntime().availableProcessors())
                .append(" cores: ").append(groups).append(" consumer groups, each on its own topic, ")
                .append(partitions).append(" partitions in all, ").append(brokers).append("-broker embedded KRaft cluster.\n\n");
        md.append("| approach | Admin clients | median poll of all triggers | median Kafka requests per poll | failed triggers | heap after poll (MiB) |\n");
        md.append("|---|---|---|---|---|---|\n");
        for (Result r : List.of(shared, perTrigger)) {
            md.append("| ").append(r.name()).append(" | ").append(r.clients()).append(" | ").append(r.medianMillis())
                    .append(" ms | ").append(r.medianRequests()).append(" | ").append(r.failures()).append(" | ")
                    .append(r.heapMiB()).append(" |\n");
        }
        md.append("\nGoal: requests per poll <= 2 x brokers + ceil(groups / batch size ").append(batch).append(") = ")
                .append(goal).append(", and a poll <= 1 s. Shared engine: ").append(shared.medianRequests())
                .append(" requests, ").append(shared.medianMillis()).append(" ms.\n");
        md.append("Ratio (per-trigger / shared): requests x")
                .append(String.format("%.0f", perTrigger.medianRequests() / (double) Math.max(1, shared.medianRequests())))
                .append(", poll time x")
                .append(String.format("%.1f", perTrigger.medianMillis() / (double) Math.max(1, shared.medianMillis())))
                .append(".\n\nRaw poll times (ms): shared ").append(shared.pollMillis()).append(", per-trigger ")
                .append(perTrigger.pollMillis()).append("; requests: shared ").append(shared.requests())
                .append(", per-trigger ").append(perTrigger.requests()).append(".\n");
        Files.writeString(dir.resolve("lag-engine.md"), md.toString());
        System.out.println(md);
    }

    private static String topic(int i) {
        return "bench-topic-" + i;
    }

    private static String group(int i) {
        return "bench-group-" + i;
    }

    private static void log(String format, Object... args) {
        BenchKafka.log(format, args);
    }
}
