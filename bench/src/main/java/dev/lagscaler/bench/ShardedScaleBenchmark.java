package dev.lagscaler.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.lagscaler.controller.OperatorCommand;
import dev.lagscaler.testing.ChildProcess;
import dev.lagscaler.testing.EmbeddedKafka;
import dev.lagscaler.testing.FaultFigures;
import dev.lagscaler.testing.LocalControlPlane;
import io.kubernetes.client.openapi.apis.AppsV1Api;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Many Kafka ScaledObjects shared out over sharded operator replicas (3 by default), each its own JVM with the
 * chart's heap, on the real control plane, once with each filter: the operator keeping its share of everything it
 * receives, then the apiserver sending each replica only its share (ShardedListAndWatch). Per replica: RSS, heap after
 * a GC, bytes received from the apiserver (from its start to settled, and per minute settled), objects held,
 * reconcile p99; then one replica killed with SIGKILL: time until the others hold every object again. Arguments:
 * objects (3000), topics (1000), replicas (3), the operators' JVM options, settle seconds (30). Writes
 * bench/results/sharded-N.md and .json, and each replica's class histogram (its 40 largest lines) beside them.
 * -Dbench.controllerManagerFlags="--kube-api-qps=200 --kube-api-burst=300" runs kube-controller-manager with those
 * flags (its ReplicaSets for 30,000 Deployments take 25 minutes at its default 20 requests a second).
 */
public final class ShardedScaleBenchmark {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    /** Records sent one at a time per mode, each to a topic of its own, for the wake-up figure at this scale. */
    private static final int WAKE_UP_SAMPLES = 20;

    private ShardedScaleBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int objects = args.length > 0 ? Integer.parseInt(args[0]) : 3000;
        int topics = args.length > 1 ? Integer.parseInt(args[1]) : 1000;
        int replicas = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        String jvm = args.length > 3 ? args[3]
                : "-Xmx288m -XX:+UseSerialGC -XX:MaxMetaspaceSize=128m -XX:ReservedCodeCacheSize=48m -Xss512k -XX:TieredStopAtLevel=1";
        int settle = args.length > 4 ? Integer.parseInt(args[4]) : 30;
        Path results = Path.of(System.getProperty("bench.results", "bench/results"));
        Files.createDirectories(results);
        Path work = Files.createTempDirectory("sharded-bench-");
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("run", Instant.now().toString());
        report.put("cores", Runtime.getRuntime().availableProcessors());
        report.put("command", "bench/sharded-scale.sh " + objects + " " + topics + " " + replicas + " '" + jvm + "' " + settle);
        try (EmbeddedKafka kafka = EmbeddedKafka.start(EmbeddedKafka.Options.singleNode().withBrokers(3).withHeap("1g")
                .withOffsetsTopicPartitions(50));
             LocalControlPlane plane = LocalControlPlane.start(LocalControlPlane.Options.temporary()
                     .withControllerManagerFlags(MassActivationBenchmark.words("bench.controllerManagerFlags")))) {
            log("creating %d topics and %d groups", topics, objects);
            ScaleThousandsBenchmark.prepareKafka(kafka.bootstrapServers(), objects, topics, 3);
            plane.kubectl("create", "namespace", "scale");
            Instant created = Instant.now();
            ScaleThousandsBenchmark.createObjects(plane, work, kafka.bootstrapServers(), objects, topics);
            log("created %d ScaledObjects and Deployments in %d s", objects, Duration.between(created, Instant.now()).toSeconds());
            // The controller manager's first passes over the Deployments (ReplicaSets, status) are not the operators'.
            IdleCostBenchmark.awaitSettled("creation", plane);
            Run run = new Run(plane, kafka.bootstrapServers(), work, results, objects, topics, replicas, jvm, settle);
            for (String filter : List.of("operator", "auto")) {
                report.put(filter.equals("auto") ? "apiserver" : "operator", runMode(run, filter));
            }
        } finally {
            ChildProcess.deleteRecursively(work);
        }
        Files.writeString(results.resolve("sharded-" + objects + ".json"), JSON.writeValueAsString(report));
        String md = markdown(report, objects, replicas);
        Files.writeString(results.resolve("sharded-" + objects + ".md"), md);
        System.out.println(md);
        System.exit(0);
    }

    /** What every mode of one run shares. */
    private record Run(LocalControlPlane plane, String bootstrap, Path work, Path results, int objects, int topics,
                       int replicas, String jvm, int settle) {
    }

    private static Map<String, Object> runMode(Run run, String filter) throws Exception {
        LocalControlPlane plane = run.plane();
        Path work = run.work();
        int objects = run.objects();
        int settle = run.settle();
        List<String> ids = new ArrayList<>();
        Map<String, Process> processes = new LinkedHashMap<>();
        Map<String, Integer> ports = new LinkedHashMap<>();
        Map<String, Object> figures = new LinkedHashMap<>();
        try {
            Instant started = Instant.now();
            for (int i = 0; i < run.replicas(); i++) {
                String id = filter + "-" + i;
                ids.add(id);
                ports.put(id, ChildProcess.freePort());
                List<String> command = new ArrayList<>(List.of(ChildProcess.javaExecutable()));
                command.addAll(List.of(run.jvm().trim().split("\\s+")));
                command.addAll(List.of("-XX:+ExitOnOutOfMemoryError", "-cp", ChildProcess.absoluteClassPath(),
                        OperatorCommand.class.getName(), "--kubeconfig", plane.kubeconfig().toString(), "--sharded",
                        "--shard-filter", filter, "--namespace", "lagscaler-" + filter, "--identity", id,
                        "--metrics-feed", "off", "--health-address", "off", "--webhook-address", "off",
                        "--metrics-address", "127.0.0.1:" + ports.get(id)));
                processes.put(id, ChildProcess.start(command, work, work.resolve(id + ".log")));
            }
            awaitShare(processes, ports, ids, objects, Duration.ofMinutes(15));
            figures.put("all_held_after_start_s", Duration.between(started, Instant.now()).toSeconds());
            awaitReconciled(processes, ports, ids, objects, Duration.ofMinutes(15));
            figures.put("all_reconciled_after_start_s", Duration.between(started, Instant.now()).toSeconds());
            // The first passes over every object (status writes, the first poll) before the settled window.
            IdleCostBenchmark.awaitSettled(filter, plane);
            Map<String, Map<String, Double>> before = new LinkedHashMap<>();
            for (String id : ids) {
                before.put(id, ScaleThousandsBenchmark.samples(ScaleThousandsBenchmark.scrape(ports.get(id))));
            }
            log("%s: every object held; settling %d s", filter, settle);
            Thread.sleep(settle * 1000L);
            List<Map<String, Object>> perReplica = new ArrayList<>();
            for (String id : ids) {
                ScaleThousandsBenchmark.run(List.of("jcmd", Long.toString(processes.get(id).pid()), "GC.run"), work);
            }
            Thread.sleep(2000);
            for (String id : ids) {
                // What each heap holds, by class (the largest first), beside the results.
                Path histogram = run.results().resolve("sharded-" + objects + "-histogram-" + id + ".txt");
                new ProcessBuilder("jcmd", Long.toString(processes.get(id).pid()), "GC.class_histogram")
                        .redirectErrorStream(true).redirectOutput(histogram.toFile()).start().waitFor();
                List<String> lines = Files.readAllLines(histogram);
                Files.write(histogram, lines.subList(0, Math.min(lines.size(), 40)));
            }
            for (String id : ids) {
                Map<String, Double> after = ScaleThousandsBenchmark.samples(ScaleThousandsBenchmark.scrape(ports.get(id)));
                Map<String, Object> r = new LinkedHashMap<>();
                r.put("replica", id);
                r.put("held", (long) ScaleThousandsBenchmark.sum(after, "lagscaler_shard_objects_held"));
                r.put("rss_mib", ScaleThousandsBenchmark.status(processes.get(id).pid(), "VmRSS") / 1024);
                r.put("heap_after_gc_mib", Math.round(ScaleThousandsBenchmark.sum(after, "jvm_memory_used_bytes{area=\"heap\"") / 1048576));
                double received = ScaleThousandsBenchmark.sum(after, "lagscaler_apiserver_response_bytes_total");
                r.put("received_to_settled_mib", Math.round(ScaleThousandsBenchmark.sum(before.get(id),
                        "lagscaler_apiserver_response_bytes_total") / 1048576.0 * 10) / 10.0);
                r.put("watch_kib_per_min_settled", Math.round((ScaleThousandsBenchmark.sum(after,
                        "lagscaler_apiserver_response_bytes_total{verb=\"watch\"") - ScaleThousandsBenchmark.sum(before.get(id),
                        "lagscaler_apiserver_response_bytes_total{verb=\"watch\"")) / 1024.0 * 60 / settle));
                r.put("received_total_mib", Math.round(received / 1048576.0 * 10) / 10.0);
                r.put("reconcile_p99", ScaleThousandsBenchmark.quantile(after, 0.99));
                perReplica.add(r);
            }
            figures.put("replicas", perReplica);
            // Wake-ups at this scale: each mode wakes targets of its own topics (those of the first stay up).
            List<Long> wakeUps = wakeUps(run, filter.equals("auto") ? WAKE_UP_SAMPLES : 0);
            figures.put("wake_up_ms", wakeUps);
            figures.put("wake_up_p50_ms", FaultFigures.percentile(wakeUps, 0.50));
            figures.put("wake_up_p95_ms", FaultFigures.percentile(wakeUps, 0.95));

            // One replica dies without a word: the others take its share once its Lease lapses.
            String victim = ids.get(ids.size() - 1);
            Instant killed = Instant.now();
            processes.remove(victim).destroyForcibly().waitFor();
            ports.remove(victim);
            ids.remove(victim);
            awaitShare(processes, ports, ids, objects, Duration.ofMinutes(10));
            figures.put("kill9_to_all_held_again_ms", Duration.between(killed, Instant.now()).toMillis());
            awaitReconciled(processes, ports, ids, objects, Duration.ofMinutes(10));
            figures.put("kill9_to_all_reconciled_again_ms", Duration.between(killed, Instant.now()).toMillis());
            log("%s: %s", filter, figures);
            return figures;
        } finally {
            processes.values().forEach(p -> ChildProcess.stop(p, Duration.ofSeconds(10)));
            for (String id : ports.keySet()) {
                Path log = work.resolve(id + ".log");
                if (Files.exists(log)) {
                    Files.copy(log, Path.of(System.getProperty("java.io.tmpdir"), "sharded-bench-" + id + ".log"),
                            java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    /**
     * One record at a time to {@link #WAKE_UP_SAMPLES} topics from {@code firstTopic} on, each to partition 0 of a
     * topic whose targets all sit at zero: for every target of that topic (objects / topics of them, each its own
     * group), the time from the send until a GET of its Deployment every 5 ms reads replicas at 1 or more (as
     * `bench/scale-from-zero.sh` times its one target; a watch over 10,000 Deployments in this JVM saw none of them
     * within a minute of the operators' writes).
     */
    private static List<Long> wakeUps(Run run, int firstTopic) throws Exception {
        List<Long> millis = new ArrayList<>();
        AppsV1Api apps = new AppsV1Api(run.plane().apiClient());
        ExecutorService readers = Executors.newCachedThreadPool();
        try (KafkaProducer<String, String> producer = ScaleFromZeroBenchmark.producer(run.bootstrap())) {
            for (int topic = firstTopic; topic < firstTopic + WAKE_UP_SAMPLES; topic++) {
                String name = "topic-" + topic;
                producer.partitionsFor(name); // its leader known before the clock starts
                List<Future<Long>> atOne = new ArrayList<>();
                long sent = System.nanoTime();
                producer.send(new ProducerRecord<>(name, 0, null, "x")).get();
                for (int i = topic; i < run.objects(); i += run.topics()) {
                    String target = "consumer-" + i;
                    atOne.add(readers.submit(() -> {
                        long[] seen = {0};
                        ChildProcess.await(target + " at 1 or more", Duration.ofSeconds(60), Duration.ofMillis(5), () -> {
                            Integer replicas = apps.readNamespacedDeployment(target, "scale").execute().getSpec().getReplicas();
                            seen[0] = System.nanoTime();
                            return replicas != null && replicas >= 1;
                        });
                        return seen[0];
                    }));
                }
                for (Future<Long> at : atOne) {
                    millis.add((at.get() - sent) / 1_000_000);
                }
            }
        } finally {
            readers.shutdownNow();
        }
        log("wake-ups (ms): %s", millis);
        return millis;
    }

    /** Until {@code ids} all settled in a membership of exactly them, holding every object between them. */
    private static void awaitShare(Map<String, Process> processes, Map<String, Integer> ports, List<String> ids, int objects,
                                   Duration timeout) throws Exception {
        awaitAll(processes, ports, ids, objects, timeout, "hold all",
                s -> (long) ScaleThousandsBenchmark.sum(s, "lagscaler_shard_objects_held"));
    }

    /**
     * Until every object was reconciled by the replica holding it now: each owner reports an object's replicas once a
     * pass of its own reconciled it, and a replica stops reporting what it lets go. Held is not yet reconciled (a
     * share's first passes take minutes at 10,000 objects; a lost requeue would leave an object held and never acted on).
     */
    private static void awaitReconciled(Map<String, Process> processes, Map<String, Integer> ports, List<String> ids,
                                        int objects, Duration timeout) throws Exception {
        awaitAll(processes, ports, ids, objects, timeout, "have reconciled all",
                s -> s.keySet().stream().filter(k -> k.startsWith("lagscaler_scaledobject_current_replicas{")).count());
    }

    private static void awaitAll(Map<String, Process> processes, Map<String, Integer> ports, List<String> ids, int objects,
                                 Duration timeout, String what,
                                 java.util.function.ToLongFunction<Map<String, Double>> count) throws Exception {
        List<String> exited = new ArrayList<>(); // a replica that exits (out of heap, most likely) ends the wait
        long[] last = {0};
        try {
            ChildProcess.await(ids + " " + what + " " + objects, timeout, Duration.ofSeconds(1), () -> {
                long total = 0;
                for (String id : ids) {
                    if (!processes.get(id).isAlive()) {
                        exited.add(id + " exited with " + processes.get(id).exitValue() + " (its log: "
                                + System.getProperty("java.io.tmpdir") + "/sharded-bench-" + id + ".log)");
                        return true;
                    }
                    Map<String, Double> s;
                    try {
                        s = ScaleThousandsBenchmark.samples(ScaleThousandsBenchmark.scrape(ports.get(id)));
                    } catch (java.io.IOException e) {
                        return false; // a slow answer under load: the next round asks again
                    }
                    if (ScaleThousandsBenchmark.sum(s, "lagscaler_shard_settled") != 1
                            || ScaleThousandsBenchmark.sum(s, "lagscaler_shard_members") != ids.size()) {
                        return false;
                    }
                    total += count.applyAsLong(s);
                }
                last[0] = total;
                return total == objects;
            });
        } catch (java.io.IOException e) {
            throw new java.io.IOException(e.getMessage() + " (" + last[0] + " at the last look)", e);
        }
        if (!exited.isEmpty()) {
            throw new IllegalStateException(exited.get(0));
        }
    }

    @SuppressWarnings("unchecked")
    private static String markdown(Map<String, Object> report, int objects, int replicas) {
        StringBuilder md = new StringBuilder("# " + objects + " Kafka ScaledObjects over " + replicas + " sharded operators\n\n");
        md.append("Run ").append(report.get("run")).append(" on ").append(report.get("cores"))
                .append(" cores (shared with 3 brokers, etcd, kube-apiserver, kube-controller-manager): `")
                .append(report.get("command")).append("`. Targets idle at zero; each operator its own JVM with the JVM options given"
                        + "; the same objects served first with each replica filtering what it receives, then with the"
                        + " apiserver sending each only its share.\n\n");
        md.append("| filter | replica | objects held | RSS MiB | heap after GC MiB | MiB received start→settled | watch KiB/min settled | reconcile p99 |\n|---|---|---|---|---|---|---|---|\n");
        for (String mode : List.of("operator", "apiserver")) {
            Map<String, Object> m = (Map<String, Object>) report.get(mode);
            for (Map<String, Object> r : (List<Map<String, Object>>) m.get("replicas")) {
                md.append("| ").append(mode).append(" | ").append(r.get("replica")).append(" | ").append(r.get("held"))
                        .append(" | ").append(r.get("rss_mib")).append(" | ").append(r.get("heap_after_gc_mib")).append(" | ")
                        .append(r.get("received_to_settled_mib")).append(" | ").append(r.get("watch_kib_per_min_settled"))
                        .append(" | ").append(r.get("reconcile_p99")).append(" |\n");
            }
        }
        md.append("\n| filter | start → every object held / reconciled by its owner | wake-up p50 / p95 (targets) | SIGKILL of one replica → every object held / reconciled again |\n|---|---|---|---|\n");
        for (String mode : List.of("operator", "apiserver")) {
            Map<String, Object> m = (Map<String, Object>) report.get(mode);
            md.append("| ").append(mode).append(" | ").append(m.get("all_held_after_start_s")).append(" s / ")
                    .append(m.get("all_reconciled_after_start_s")).append(" s | ")
                    .append(m.get("wake_up_p50_ms")).append(" / ").append(m.get("wake_up_p95_ms")).append(" ms (")
                    .append(((List<?>) m.get("wake_up_ms")).size()).append(") | ")
                    .append(m.get("kill9_to_all_held_again_ms")).append(" / ").append(m.get("kill9_to_all_reconciled_again_ms"))
                    .append(" ms |\n");
        }
        md.append("\nWake-up: one record at a time to ").append(WAKE_UP_SAMPLES).append(" topics per mode, each to a topic"
                + " whose targets sit at zero; per target, from the send to a GET (every 5 ms) reading the Deployment's"
                + " spec.replicas >= 1. Class histograms (40 largest lines): `sharded-").append(objects).append("-histogram-<replica>.txt`.\n");
        return md.toString();
    }

    private static void log(String format, Object... args) {
        BenchKafka.log(format, args);
    }
}
