package dev.lagscaler.bench;

import dev.lagscaler.controller.OperatorCommand;
import dev.lagscaler.testing.ChildProcess;
import dev.lagscaler.testing.EmbeddedKafka;
import dev.lagscaler.testing.KafkaTestData;
import dev.lagscaler.testing.LocalControlPlane;
import dev.lagscaler.tls.Pki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * What idle Kafka ScaledObjects cost, lagscaler against KEDA built from source, on one machine: the same broker,
 * topics and groups, the same objects, each operator on its own fresh control plane (KEDA's CRDs for KEDA, ours for
 * lagscaler). Measured over a window once all are Ready with their targets at zero: the operator's and
 * kube-apiserver's CPU seconds (from /proc), then the time from one record to a target's spec.replicas >= 1.
 * Writes {@code bench/results/idle-cost-keda.md}.
 */
public final class IdleCostBenchmark {
    /** The chart's operator JVM options (deploy/helm/lagscaler/values.yaml). */
    static final String CHART_JVM = "-Xmx288m -XX:+UseSerialGC -XX:MaxMetaspaceSize=128m -XX:ReservedCodeCacheSize=48m"
            + " -Xss512k -XX:TieredStopAtLevel=1";

    record Row(String operator, int objects, double operatorCpuPerMin, double apiserverCpuPerMin, double requestsPerMin,
            double leaseRequestsPerMin, Duration settled, List<Long> wakeMillis) {
    }

    private IdleCostBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        // One or more object counts, e.g. 1,100,500: every count runs both operators; the topics are those of the largest.
        List<Integer> counts = java.util.Arrays.stream((args.length > 0 ? args[0] : "500").split(","))
                .map(String::trim).map(Integer::parseInt).toList();
        int objects = counts.stream().mapToInt(Integer::intValue).max().orElseThrow();
        int window = args.length > 1 ? Integer.parseInt(args[1]) : 60;
        Path kedaHome = Path.of(args.length > 2 ? args[2]
                : System.getProperty("user.home") + "/.cache/lagscaler/keda-src");
        Path kedaBinary = kedaHome.resolve("keda-operator");
        Path kedaCrds = kedaHome.resolve("keda/config/crd/bases");
        int topics = (objects + 2) / 3;
        Path results = Path.of(System.getProperty("bench.results", "bench/results"));
        Files.createDirectories(results);
        List<Row> rows = new ArrayList<>();
        try (EmbeddedKafka kafka = EmbeddedKafka.start(EmbeddedKafka.Options.singleNode().withBrokers(3).withHeap("1g")
                .withOffsetsTopicPartitions(50))) {
            ScaleThousandsBenchmark.prepareKafka(kafka.bootstrapServers(), objects, topics, 3);
            for (int count : counts) {
            if (!Boolean.getBoolean("bench.kedaOnly")) { // -Dbench.kedaOnly=true: KEDA's rows alone
            rows.add(measure("lagscaler", kafka, count, objects, topics, window, null, (plane, work) -> {
                List<String> command = new ArrayList<>(List.of(ChildProcess.javaExecutable()));
                command.addAll(List.of(CHART_JVM.split(" ")));
                // Extra JVM options for the operator, e.g. a flight recording of where its idle CPU goes.
                String extra = System.getProperty("bench.operatorJvmOptions", "").trim();
                if (!extra.isEmpty()) {
                    command.addAll(List.of(extra.split(" ")));
                }
                command.addAll(List.of("-cp", ChildProcess.absoluteClassPath(), OperatorCommand.class.getName(),
                        "--kubeconfig", plane.kubeconfig().toString(), "--namespace", "lagscaler-idle", "--identity", "idle",
                        "--metrics-feed", "off", "--health-address", "off", "--metrics-address", "off"));
                return ChildProcess.start(command, work, work.resolve("operator.log"));
            }));
            }
            if (Files.isExecutable(kedaBinary) && Files.isDirectory(kedaCrds)) {
                rows.add(measure("KEDA 2.21.0 (built from source)", kafka, count, objects, topics, window, kedaCrds,
                        (plane, work) -> startKeda(kedaBinary, plane, work)));
            } else {
                BenchKafka.log("no KEDA binary at %s (build it with bench/keda-binary.sh): lagscaler only", kedaBinary);
            }
            }
        }
        StringBuilder md = new StringBuilder("# What idle ScaledObjects cost: lagscaler and KEDA on one machine\n\n")
                .append("`bench/idle-cost-keda.sh ").append(args.length > 0 ? args[0] : "500").append(' ').append(window).append("` on ")
                .append(Runtime.getRuntime().availableProcessors()).append(" cores, run ").append(Instant.now())
                .append(". Kafka ScaledObjects (pollingInterval 30 s, KEDA's default), object i on topic i mod ")
                .append(topics).append(" (3 partitions each) on one 3-broker cluster, one consumer group each, lag 0,")
                .append(" targets at zero. Each operator on its own fresh control plane (etcd, kube-apiserver,")
                .append(" kube-controller-manager) with the same broker; CPU from /proc over ").append(window)
                .append(" s once every object is Ready and at zero and the first passes over their")
                .append(" creation are done (see Settled); then a record to three objects' topics (one with one")
                .append(" object), one at a time, and the time to their target's spec.replicas >= 1. lagscaler runs with the chart's JVM")
                .append(" options (`").append(CHART_JVM).append("`). Both elect a leader, as their charts do (lagscaler:")
                .append(" 6 s lease renewed every second; KEDA: controller-runtime's 15 s lease, renewed every 2 s).")
                .append(" The kube-apiserver requests/min column counts every client's (apiserver_request_total), the controller")
                .append(" manager's HPA controller included; in brackets, those on Leases (the operator's leader election, and")
                .append(" kube-apiserver's own identity Lease).")
                .append(" Settled: how long after every object was Ready the first passes over their creation were done")
                .append(" (kube-controller-manager's ReplicaSets and garbage-collector reads, the operator's HPAs and")
                .append(" status writes), when the window starts.\n\n")
                .append("| operator | idle ScaledObjects | settled | operator CPU s/min | kube-apiserver CPU s/min | kube-apiserver requests/min (Lease) | record → replicas >= 1 |\n")
                .append("|---|---|---|---|---|---|---|\n");
        for (Row r : rows) {
            md.append(String.format(Locale.ROOT, "| %s | %d | %s | %.1f | %.1f | %,.0f (%.0f) | %s |%n", r.operator(), r.objects(),
                    r.settled() == null ? "not in 10 min" : r.settled().toSeconds() + " s", r.operatorCpuPerMin(), r.apiserverCpuPerMin(), r.requestsPerMin(), r.leaseRequestsPerMin(),
                    String.join(" / ", r.wakeMillis().stream().map(ms -> ms >= 1000 ? String.format(Locale.ROOT, "%.1f s", ms / 1000.0)
                            : ms + " ms").toList())));
        }
        Files.writeString(results.resolve("idle-cost-keda.md"), md.toString());
        System.out.println(md);
        System.exit(0);
    }

    /** KEDA's operator from its binary, on {@code plane}, as its chart runs it (TLS for its gRPC metrics service). */
    static Process startKeda(Path kedaBinary, LocalControlPlane plane, Path work) throws Exception {
        plane.kubectl("create", "namespace", "keda");
        // KEDA's gRPC metrics service serves TLS from --cert-dir (its chart mounts a generated Secret).
        Path certs = Files.createDirectories(work.resolve("certs"));
        Pki.Issued ca = Pki.ca("keda-bench-ca");
        Pki.Issued server = Pki.server(ca, "keda-operator", List.of("keda-operator", "localhost"), List.of("127.0.0.1"));
        Files.writeString(certs.resolve("ca.crt"), ca.certificatePem());
        Files.writeString(certs.resolve("tls.crt"), server.certificatePem());
        Files.writeString(certs.resolve("tls.key"), server.privateKeyPem());
        ProcessBuilder builder = new ProcessBuilder(kedaBinary.toString(), "--zap-log-level=info",
                "--cert-dir=" + certs, "--kubeconfig=" + plane.kubeconfig(),
                "--metrics-bind-address=127.0.0.1:" + ChildProcess.freePort(),
                "--health-probe-bind-address=127.0.0.1:" + ChildProcess.freePort(),
                "--metrics-service-bind-address=127.0.0.1:" + ChildProcess.freePort(),
                "--enable-cert-rotation=false", "--leader-elect=true")
                .directory(work.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(work.resolve("keda.log").toFile()));
        builder.environment().putAll(Map.of("KUBECONFIG", plane.kubeconfig().toString(),
                "WATCH_NAMESPACE", "", "POD_NAMESPACE", "keda", "KEDA_CLUSTER_OBJECT_NAMESPACE", "keda",
                "OPERATOR_NAME", "keda-operator"));
        return builder.start();
    }

    interface Starter {
        Process start(LocalControlPlane plane, Path work) throws Exception;
    }

    static Row measure(String name, EmbeddedKafka kafka, int objects, int groups, int topics, int window, Path crdDir, Starter starter)
            throws Exception {
        Path work = Files.createTempDirectory("idle-cost-");
        LocalControlPlane.Options options = crdDir == null ? LocalControlPlane.Options.temporary()
                : new LocalControlPlane.Options(null, true, crdDir, false);
        try (LocalControlPlane plane = LocalControlPlane.start(options)) {
            plane.kubectl("create", "namespace", "scale");
            Process operator = starter.start(plane, work);
            try {
                ScaleThousandsBenchmark.createObjects(plane, work, kafka.bootstrapServers(), objects, topics);
                ChildProcess.await(name + ": every ScaledObject Ready", Duration.ofMinutes(15), Duration.ofSeconds(2), () -> {
                    if (!operator.isAlive()) {
                        throw new IllegalStateException(name + " exited; its log: " + work);
                    }
                    String ready = plane.kubectl("-n", "scale", "get", "scaledobjects",
                            "-o", "jsonpath={range .items[*]}{.status.conditions[?(@.type==\"Ready\")].status}{\"\\n\"}{end}");
                    long n = ready.lines().filter("True"::equals).count();
                    BenchKafka.log("%s: %d of %d Ready", name, n, objects);
                    return n == objects;
                });
                Duration settled = awaitSettled(name, plane);
                BenchKafka.log("%s: settled %s s after every object was Ready", name, settled == null ? "not in 600" : settled.toSeconds());
                Thread.sleep(20_000); // past the first passes of every object
                long active = plane.kubectl("-n", "scale", "get", "deployments", "-o",
                        "jsonpath={range .items[*]}{.spec.replicas}{\"\\n\"}{end}").lines().filter(r -> !r.equals("0")).count();
                if (active > 0) {
                    throw new IllegalStateException(name + ": " + active + " targets are not at zero: the window would not be idle");
                }
                long apiserver = plane.pid("kube-apiserver");
                long operatorBefore = cpuTicks(operator.pid());
                long apiserverBefore = cpuTicks(apiserver);
                Map<String, Double> requestsBefore = ApiserverLoadBenchmark.scrape(plane);
                Thread.sleep(window * 1000L);
                double operatorCpu = (cpuTicks(operator.pid()) - operatorBefore) / 100.0 * 60 / window;
                double apiserverCpu = (cpuTicks(apiserver) - apiserverBefore) / 100.0 * 60 / window;
                // What kube-apiserver served in the window, from every client (the operator, the controller manager).
                StringBuilder top = new StringBuilder();
                Map<String, Double> served = ApiserverLoadBenchmark.delta(requestsBefore, ApiserverLoadBenchmark.scrape(plane));
                double requestsPerMin = served.values().stream().mapToDouble(Double::doubleValue).sum() * 60 / window;
                double leasePerMin = served.entrySet().stream().filter(e -> e.getKey().endsWith(" leases"))
                        .mapToDouble(Map.Entry::getValue).sum() * 60 / window;
                served.entrySet().stream()
                        .filter(e -> e.getValue() > 0).sorted(Map.Entry.<String, Double>comparingByValue().reversed()).limit(10)
                        .forEach(e -> top.append(String.format("%s %.0f/min; ", e.getKey(), e.getValue() * 60 / window)));
                BenchKafka.log("%s: kube-apiserver requests in the window: %s", name, top);
                BenchKafka.log("%s: %d ReplicaSets for %d Deployments; Events by reason: %s", name,
                        plane.kubectl("-n", "scale", "get", "replicasets", "--no-headers").lines().count(), objects,
                        plane.kubectl("-n", "scale", "get", "events", "-o", "jsonpath={range .items[*]}{.reason}{\"\\n\"}{end}")
                                .lines().collect(java.util.stream.Collectors.groupingBy(r -> r, java.util.TreeMap::new,
                                        java.util.stream.Collectors.counting())));
                List<Long> wakes = new ArrayList<>();
                for (int i = 0; i < Math.min(3, objects); i++) {
                    int object = i;
                    long started = System.nanoTime();
                    KafkaTestData.produce(kafka.bootstrapServers(), "topic-" + (object % topics), 0, 1);
                    ChildProcess.await(name + ": consumer-" + object + " activated", Duration.ofSeconds(120), Duration.ofMillis(20),
                            () -> !plane.kubectl("-n", "scale", "get", "deployment", "consumer-" + object, "-o",
                                    "jsonpath={.spec.replicas}").trim().equals("0"));
                    wakes.add((System.nanoTime() - started) / 1_000_000);
                }
                BenchKafka.log("%s: operator %.1f CPU-s/min, kube-apiserver %.1f CPU-s/min, wake %s ms", name, operatorCpu,
                        apiserverCpu, wakes);
                // Every group on the touched topics, those of objects the larger counts create too: the next run starts idle.
                catchUp(kafka.bootstrapServers(), groups, topics, Math.min(3, topics));
                return new Row(name, objects, operatorCpu, apiserverCpu, requestsPerMin, leasePerMin, settled, wakes);
            } finally {
                ChildProcess.stop(operator, Duration.ofSeconds(10));
                Path log = work.resolve(Files.exists(work.resolve("keda.log")) ? "keda.log" : "operator.log");
                if (Files.exists(log)) {
                    Files.copy(log, Path.of(System.getProperty("java.io.tmpdir"), "idle-cost-" + log.getFileName()),
                            StandardCopyOption.REPLACE_EXISTING);
                }
                ChildProcess.deleteRecursively(work);
            }
        }
    }

    /**
     * Requests made only while the objects' creation is worked off. kube-controller-manager's: the deployment
     * controller's first ReplicaSet and status per Deployment, and the garbage collector's reads of owners it met in an
     * HPA's ownerReferences before it watched ScaledObjects. The operator's: its first pass over each object (HPA,
     * finalizer, status). Neither operator writes these for an unchanged idle object (lagscaler's pass writes nothing
     * once its status is written; KEDA skips a status patch that changes nothing). At a client's 20 requests/s that
     * takes minutes at 500 objects, for kube-controller-manager and for KEDA alike: measured before it is done, it was
     * counted as idle cost (KEDA's status patches at 1,202 a minute in one run, the controller manager's ReplicaSets
     * in another).
     */
    static final List<String> CREATION_BACKLOG = List.of("POST replicasets", "PUT replicasets/status",
            "PUT deployments/status", "GET scaledobjects", "POST horizontalpodautoscalers", "PUT horizontalpodautoscalers",
            "PATCH horizontalpodautoscalers", "PUT scaledobjects", "PATCH scaledobjects", "PUT scaledobjects/status",
            "PATCH scaledobjects/status");

    /**
     * Waits for a 10 s sample with none of the {@link #CREATION_BACKLOG} requests and returns how long that took, or
     * null after 10 minutes without one (then the window is measured anyway and the table says so).
     */
    static Duration awaitSettled(String name, LocalControlPlane plane) throws Exception {
        long started = System.nanoTime();
        Map<String, Double> before = ApiserverLoadBenchmark.scrape(plane);
        while (System.nanoTime() - started < Duration.ofMinutes(10).toNanos()) {
            Thread.sleep(10_000);
            Map<String, Double> after = ApiserverLoadBenchmark.scrape(plane);
            Map<String, Double> delta = ApiserverLoadBenchmark.delta(before, after);
            Map<String, Double> backlog = new java.util.TreeMap<>();
            CREATION_BACKLOG.forEach(k -> {
                if (delta.getOrDefault(k, 0.0) > 0) {
                    backlog.put(k, delta.get(k));
                }
            });
            if (backlog.isEmpty()) {
                return Duration.ofNanos(System.nanoTime() - started);
            }
            BenchKafka.log("%s: the creation is still being worked off (in 10 s: %s)", name, backlog);
            before = after;
        }
        BenchKafka.log("%s: the creation was not worked off in 10 minutes: measuring anyway", name);
        return null;
    }

    /** Commits every group on the first {@code touched} topics at their log end, as a consumer would have. */
    static void catchUp(String bootstrap, int objects, int topics, int touched) throws Exception {
        try (Admin admin = Admin.create(Map.of(
                AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            Map<TopicPartition, OffsetSpec> wanted = new HashMap<>();
            for (int t = 0; t < touched; t++) {
                wanted.put(new TopicPartition("topic-" + t, 0),
                        OffsetSpec.latest());
            }
            var ends = admin.listOffsets(wanted).all().get();
            Map<String, Map<TopicPartition, OffsetAndMetadata>> commits =
                    new HashMap<>();
            for (int i = 0; i < objects; i++) {
                var tp = new TopicPartition("topic-" + (i % topics), 0);
                if (ends.containsKey(tp)) {
                    commits.put("group-" + i, Map.of(tp, new OffsetAndMetadata(ends.get(tp).offset())));
                }
            }
            BenchKafka.commitUntilAccepted(admin, commits, Duration.ofSeconds(3));
        }
    }

    /** utime + stime of a process, in clock ticks (100 a second on Linux). */
    static long cpuTicks(long pid) throws Exception {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
    }
}
