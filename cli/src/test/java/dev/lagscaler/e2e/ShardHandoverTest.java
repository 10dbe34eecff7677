package dev.lagscaler.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lagscaler.adapter.AdapterMetrics;
import dev.lagscaler.adapter.ExternalMetricsServer;
import dev.lagscaler.adapter.MetricStore;
import dev.lagscaler.adapter.MetricsAdapter;
import dev.lagscaler.controller.OperatorCommand;
import dev.lagscaler.shard.ShardRing;
import dev.lagscaler.testing.ChildProcess;
import dev.lagscaler.testing.EmbeddedKafka;
import dev.lagscaler.testing.FaultFigures;
import dev.lagscaler.testing.KafkaTestData;
import dev.lagscaler.testing.LocalControlPlane;
import dev.lagscaler.testing.WithControlPlane;
import dev.lagscaler.testing.WithKafka;
import io.kubernetes.client.custom.V1Patch;
import io.kubernetes.client.openapi.apis.CustomObjectsApi;
import dev.lagscaler.tls.Pki;
import io.kubernetes.client.util.PatchUtils;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.vertx.core.net.SocketAddress;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/**
 * The handover rule of sharded operators, on the real control plane with operator processes: two replicas share 24
 * ScaledObjects, a third joins, then it is killed with SIGKILL. Throughout, every object's spec is changed twice a
 * second, so its owner writes its HPA each time; the apiserver's audit log (every write attempt to HPAs, /scale and
 * ScaledObjects, with the writer's user agent) then shows who wrote each object when. No object is written by two
 * replicas in turn (each changes writer at most once per membership change), each ends with the ring's owner, and the
 * apiserver's own shard selector (ShardedListAndWatch) gives each member exactly the objects the ring gives it. One
 * adapter subscribes to all three feeds: it serves every object's metric throughout, and the real HPAs read them.
 */
@WithKafka
@WithControlPlane
class ShardHandoverTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int OBJECTS = 24;
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    /** Each replica receives every ScaledObject and keeps its share (--shard-filter operator). */
    @Test
    void filteredByTheOperatorNoObjectHasTwoWriters(EmbeddedKafka kafka, LocalControlPlane plane) throws Exception {
        run(new Scenario("operator", "lagscaler-shards", "shards", List.of("shard-a", "shard-b", "shard-c")), kafka, plane);
    }

    /**
     * The apiserver sends each replica only its share (ShardedListAndWatch): its caches hold nothing else, its share
     * moves with the membership all the same, and two ScaledObjects on one workload held by different replicas are
     * still told apart (the later one stands down).
     */
    @Test
    void filteredByTheApiserverNoObjectHasTwoWriters(EmbeddedKafka kafka, LocalControlPlane plane) throws Exception {
        run(new Scenario("apiserver", "lagscaler-shards-api", "shards-api", List.of("api-a", "api-b", "api-c")), kafka, plane);
    }

    /** One run: replicas {@code ids[0..1]} share the objects of {@code namespace}, {@code ids[2]} joins and is killed. */
    private record Scenario(String filter, String leases, String namespace, List<String> ids) {
        List<String> namespaces() {
            return List.of(namespace);
        }
    }

    private void run(Scenario scenario, EmbeddedKafka kafka, LocalControlPlane plane) throws Exception {
        String topic = "shard-events-" + scenario.filter();
        KafkaTestData.createTopic(kafka.bootstrapServers(), topic, 1);
        KafkaTestData.commit(kafka.bootstrapServers(), "shard-group", Map.of(new TopicPartition(topic, 0), 0L));
        Map<String, String> uids = new TreeMap<>(); // "namespace/name" -> uid
        for (String ns : scenario.namespaces()) {
            plane.kubectl("create", "namespace", ns);
            StringBuilder yaml = new StringBuilder();
            for (int i = 0; i < OBJECTS; i++) {
                yaml.append(dev.lagscaler.testing.Manifests.consumerAndScaledObject(i, 1,
                        "minReplicaCount: 1\nmaxReplicaCount: 5\npollingInterval: 5", kafka.bootstrapServers(), "shard-group",
                        topic, 10));
            }
            ExternalMetricsEndToEndTest.apply(plane, ns, yaml.toString());
            for (JsonNode so : JSON.readTree(plane.kubectl("-n", ns, "get", "scaledobjects", "-o", "json")).path("items")) {
                uids.put(ns + "/" + so.path("metadata").path("name").asText(), so.path("metadata").path("uid").asText());
            }
        }
        List<String> ids = scenario.ids();
        String a = ids.get(0);
        String b = ids.get(1);
        String c = ids.get(2);

        Path logs = Files.createTempDirectory("shard-operators-");
        Map<String, Process> operators = new LinkedHashMap<>();
        Map<String, Integer> metricPorts = new HashMap<>();
        Map<String, Integer> feedPorts = new HashMap<>();
        for (String id : ids) {
            metricPorts.put(id, ChildProcess.freePort());
            feedPorts.put(id, ChildProcess.freePort());
        }
        // One adapter subscribed to every replica's feed at once, registered for the real HPA controller.
        Pki.Issued ca = Pki.ca("shards-adapter-ca");
        Pki.Issued serving = ExternalMetricsEndToEndTest.adapterCertificate(ca);
        MetricsAdapter adapter = MetricsAdapter.start(plane.apiClient(), feedPorts.values().stream()
                        .map(p -> SocketAddress.inetSocketAddress(p, "127.0.0.1")).toList(),
                new ExternalMetricsServer.Options("127.0.0.1", 0, serving.certificatePem(), serving.privateKeyPem()),
                new AdapterMetrics(new PrometheusRegistry()), null, true);
        plane.registerExternalMetrics(adapter.port(), ca.certificatePem());
        AtomicBoolean ticking = new AtomicBoolean(true);
        Thread ticker = null;
        Map<String, Object> figures = new LinkedHashMap<>();
        try {
            for (String id : List.of(a, b)) {
                operators.put(id, startOperator(scenario, id, metricPorts.get(id), feedPorts.get(id), plane, logs));
            }
            awaitSettled(List.of(a, b), metricPorts, Duration.ofSeconds(90));
            Instant settledTwo = Instant.now();
            awaitAllServed(adapter, uids.keySet(), "s0-kafka-" + topic, Duration.ofSeconds(60));
            ChildProcess.await("an HPA for every object", Duration.ofSeconds(60), Duration.ofMillis(500),
                    () -> hpasReading(plane, scenario.namespaces(), false) == uids.size());

            // Every object's spec changes twice a second: its owner, and only its owner, writes its HPA each time.
            var client = plane.apiClient();
            CustomObjectsApi custom = new CustomObjectsApi(client);
            ticker = new Thread(() -> {
                int tick = 0;
                while (ticking.get()) {
                    tick++;
                    for (String object : uids.keySet()) {
                        String patch = "{\"spec\":{\"maxReplicaCount\":" + (5 + tick % 2) + "}}";
                        String[] nsName = object.split("/");
                        try {
                            PatchUtils.patch(Object.class, () -> custom.patchNamespacedCustomObject("keda.sh", "v1alpha1",
                                    nsName[0], "scaledobjects", nsName[1], new V1Patch(patch)).buildCall(null),
                                    V1Patch.PATCH_FORMAT_JSON_MERGE_PATCH, client);
                        } catch (Exception e) {
                            // the next tick tries again
                        }
                    }
                    try {
                        Thread.sleep(500);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "spec-ticker");
            ticker.start();
            ShardRing two = ShardRing.of(List.of(a, b));
            awaitWrittenByOwners(plane, scenario, uids, two, settledTwo);

            // A third replica joins: it takes about a third, and only from the others.
            Instant joined = Instant.now();
            operators.put(c, startOperator(scenario, c, metricPorts.get(c), feedPorts.get(c), plane, logs));
            awaitSettled(ids, metricPorts, Duration.ofSeconds(90));
            Instant settledThree = Instant.now();
            figures.put("join_settled_ms", Duration.between(joined, settledThree).toMillis());
            awaitAllServed(adapter, uids.keySet(), "s0-kafka-" + topic, Duration.ofSeconds(60));
            ShardRing three = ShardRing.of(ids);
            for (String id : ids) {
                // What each replica caches: its share when the apiserver filters, every object otherwise.
                long share = uids.values().stream().filter(uid -> id.equals(three.owner(uid))).count();
                long expected = scenario.filter().equals("apiserver") ? share : uids.size();
                ChildProcess.await(id + " caches " + expected + " ScaledObjects", Duration.ofSeconds(30), Duration.ofMillis(200),
                        () -> cached(metricPorts.get(id), scenario.namespace()) == expected);
            }
            // Each reports the objects of its share and no other: what left a share goes from its old owner's series.
            for (String id : ids) {
                Set<String> share = new TreeSet<>();
                uids.forEach((object, uid) -> {
                    if (id.equals(three.owner(uid))) {
                        share.add(object.substring(object.indexOf('/') + 1));
                    }
                });
                ChildProcess.await(id + " reports exactly the objects of its share", Duration.ofSeconds(30),
                        Duration.ofMillis(200), () -> reported(metricPorts.get(id), scenario.namespace()).equals(share));
            }
            if (scenario.filter().equals("apiserver")) {
                figures.put("cross_shard_conflict", crossShardConflict(plane, kafka, scenario, three, topic));
            }
            awaitWrittenByOwners(plane, scenario, uids, three, settledThree);
            Instant beforeKill = Instant.now();

            // It dies without a word: its share waits for its Lease to lapse (3 s), then moves back.
            Instant killed = Instant.now();
            operators.get(c).destroyForcibly().waitFor();
            operators.remove(c);
            awaitSettled(List.of(a, b), metricPorts, Duration.ofSeconds(90));
            Instant settledAfterKill = Instant.now();
            figures.put("kill_settled_ms", Duration.between(killed, settledAfterKill).toMillis());
            // The killed replica's metrics are unservable only until their new owners send them.
            awaitAllServed(adapter, uids.keySet(), "s0-kafka-" + topic, Duration.ofSeconds(60));
            figures.put("kill_to_every_metric_served_ms", Duration.between(killed, Instant.now()).toMillis());
            ChildProcess.await("every HPA reads its metric through the sharded adapter", Duration.ofSeconds(60),
                    Duration.ofSeconds(1), () -> hpasReading(plane, scenario.namespaces(), true) == uids.size());
            awaitWrittenByOwners(plane, scenario, uids, two, settledAfterKill);
            ticking.set(false);
            ticker.join();

            // The apiserver's shard selector gives each member of a ring exactly what the ring gives it.
            for (String member : three.members()) {
                JsonNode list = JSON.readTree(plane.kubectl("get", "--raw", "/apis/keda.sh/v1alpha1/scaledobjects?shardSelector="
                        + URLEncoder.encode(three.selector(member), StandardCharsets.UTF_8)));
                Set<String> served = new TreeSet<>();
                list.path("items").forEach(so -> {
                    String object = so.path("metadata").path("namespace").asText() + "/" + so.path("metadata").path("name").asText();
                    if (uids.containsKey(object)) {
                        served.add(object);
                    }
                });
                Set<String> expected = new TreeSet<>();
                uids.forEach((object, uid) -> {
                    if (member.equals(three.owner(uid))) {
                        expected.add(object);
                    }
                });
                assertEquals(expected, served, "the apiserver's shardRange and the ring agree for " + member);
            }
            // A typed list echoes the selector it applied (a custom resource's list, unstructured, does not in 1.36.3).
            JsonNode leases = JSON.readTree(plane.kubectl("get", "--raw", "/apis/coordination.k8s.io/v1/namespaces/"
                    + scenario.leases() + "/leases?shardSelector=" + URLEncoder.encode(three.selector(a), StandardCharsets.UTF_8)));
            assertEquals(three.selector(a), leases.path("metadata").path("shardInfo").path("selector").asText(),
                    leases.path("metadata").toString());

            // Who wrote each object, in the order the apiserver received it.
            Map<String, List<String[]>> writes = writesByObject(plane.auditLog(), Set.copyOf(scenario.namespaces()));
            int switches = 0;
            int total = 0;
            List<String> problems = new ArrayList<>();
            for (Map.Entry<String, String> so : uids.entrySet()) {
                String key = so.getValue();
                List<String[]> mine = writes.getOrDefault(so.getKey(), List.of());
                total += mine.size();
                int changes = 0;
                int changesSettled = 0; // between writes both made once the first two replicas had settled
                for (int i = 1; i < mine.size(); i++) {
                    if (!mine.get(i)[1].equals(mine.get(i - 1)[1])) {
                        changes++;
                        changesSettled += Instant.parse(mine.get(i - 1)[0]).isBefore(settledTwo) ? 0 : 1;
                    }
                }
                switches += changes;
                // Starting, the first replica may hold everything alone for a moment, then share it: one change. After
                // that, two membership changes touch an object at most twice (to the joiner, back from it).
                if (changesSettled > 2 || changes > 3) {
                    problems.add(so.getKey() + " changed writer " + changes + " times (" + changesSettled
                            + " after the first two settled at " + settledTwo + "): " + describe(mine));
                }
                String lastBeforeKill = null;
                for (String[] w : mine) {
                    if (Instant.parse(w[0]).isBefore(beforeKill)) {
                        lastBeforeKill = w[1];
                    }
                }
                if (!three.owner(key).equals(lastBeforeKill)) {
                    problems.add(so.getKey() + " last written by " + lastBeforeKill + " with three replicas, owner "
                            + three.owner(key));
                }
                String last = mine.isEmpty() ? null : mine.get(mine.size() - 1)[1];
                if (!two.owner(key).equals(last)) {
                    problems.add(so.getKey() + " last written by " + last + ", owner " + two.owner(key));
                }
            }
            figures.put("objects", uids.size());
            figures.put("writes", total);
            figures.put("writer_changes", switches);
            figures.put("objects_with_two_writers_at_once", problems.stream().filter(p -> p.contains("changed writer")).count());
            FaultFigures.record("shard_handover_filtered_by_" + scenario.filter(), figures);
            assertEquals(List.of(), problems);
            assertTrue(total > uids.size() * 10, "the owners kept writing through the changes: " + total + " writes");
        } finally {
            ticking.set(false);
            if (ticker != null) {
                ticker.join();
            }
            operators.values().forEach(p -> ChildProcess.stop(p, Duration.ofSeconds(10)));
            adapter.close();
        }
    }

    /** The objects' HPAs in {@code namespaces}; with {@code reading}, only those whose ScalingActive condition is True. */
    private static long hpasReading(LocalControlPlane plane, List<String> namespaces, boolean reading) throws Exception {
        long n = 0;
        for (JsonNode hpa : JSON.readTree(plane.kubectl("get", "hpa", "-A", "-o", "json")).path("items")) {
            if (!namespaces.contains(hpa.path("metadata").path("namespace").asText())
                    || !hpa.path("metadata").path("name").asText().startsWith("keda-hpa-so-")) {
                continue; // the cross-shard pair's HPA is not one of the objects, and lives until its collection
            }
            boolean active = false;
            for (JsonNode c : hpa.path("status").path("conditions")) {
                active |= c.path("type").asText().equals("ScalingActive") && c.path("status").asText().equals("True");
            }
            n += !reading || active ? 1 : 0;
        }
        return n;
    }

    /** The ScaledObjects of {@code namespace} a replica caches (KEDA's keda_resource_registered_total). */
    private static long cached(int port, String namespace) {
        return scrape(port).lines().filter(l -> l.startsWith("keda_resource_registered_total{")
                        && l.contains("namespace=\"" + namespace + "\""))
                .mapToLong(l -> (long) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    /**
     * Two ScaledObjects on one Deployment, made a second apart, held by different replicas (pairs are made until the
     * ring splits one): the later stands down naming the earlier, though its replica never received the earlier.
     * Returns the replicas that held the pair.
     */
    private static String crossShardConflict(LocalControlPlane plane, EmbeddedKafka kafka, Scenario scenario,
                                             ShardRing ring, String topic) throws Exception {
        for (int attempt = 0; attempt < 8; attempt++) {
            String first = "first-" + attempt;
            String later = "later-" + attempt;
            plane.kubectl("-n", scenario.namespace(), "create", "deployment", "shared-" + attempt, "--image=consumer:1.0",
                    "--replicas=1");
            String so = """
                    apiVersion: keda.sh/v1alpha1
                    kind: ScaledObject
                    metadata: {name: %s}
                    spec:
                      scaleTargetRef: {name: shared-%d}
                      minReplicaCount: 1
                      triggers:
                      - type: kafka
                        metadata: {bootstrapServers: "%s", consumerGroup: shard-group, topic: %s, lagThreshold: "10"}
                    """;
            ExternalMetricsEndToEndTest.apply(plane, scenario.namespace(), so.formatted(first, attempt, kafka.bootstrapServers(), topic));
            // Creation times are whole seconds: the later one is made once the clock has passed the first's second.
            Instant created = Instant.parse(plane.kubectl("-n", scenario.namespace(), "get", "scaledobject", first, "-o",
                    "jsonpath={.metadata.creationTimestamp}").trim());
            ChildProcess.await(first + "'s creation second is past", Duration.ofSeconds(5), Duration.ofMillis(50),
                    () -> Instant.now().isAfter(created.plusSeconds(1)));
            ExternalMetricsEndToEndTest.apply(plane, scenario.namespace(), so.formatted(later, attempt, kafka.bootstrapServers(), topic));
            String firstOwner = ring.owner(uid(plane, scenario.namespace(), first));
            String laterOwner = ring.owner(uid(plane, scenario.namespace(), later));
            if (firstOwner.equals(laterOwner)) {
                continue;
            }
            ChildProcess.await(later + " stands down for " + first, Duration.ofSeconds(30), Duration.ofMillis(200),
                    () -> plane.kubectl("-n", scenario.namespace(), "get", "scaledobject", later, "-o",
                            "jsonpath={.status.conditions[?(@.type=='Ready')].message}")
                            .contains("is already managed by the ScaledObject '" + first + "'"));
            ChildProcess.await(first + " scales its workload", Duration.ofSeconds(30), Duration.ofMillis(200),
                    () -> plane.kubectl("-n", scenario.namespace(), "get", "hpa", "-o", "name").contains("keda-hpa-" + first));
            assertFalse(plane.kubectl("-n", scenario.namespace(), "get", "hpa", "-o", "name").contains("keda-hpa-" + later),
                    "the later one made no HPA");
            plane.kubectl("-n", scenario.namespace(), "delete", "scaledobject", first, later, "--wait=false");
            return firstOwner + " then " + laterOwner;
        }
        throw new AssertionError("no pair of ScaledObjects fell in two shards in 8 attempts");
    }

    private static String uid(LocalControlPlane plane, String namespace, String name) throws Exception {
        return plane.kubectl("-n", namespace, "get", "scaledobject", name, "-o", "jsonpath={.metadata.uid}").trim();
    }

    /** Until the adapter serves every object's metric (from whichever replica owns it). */
    private static void awaitAllServed(MetricsAdapter adapter, Set<String> objects, String metric, Duration timeout)
            throws Exception {
        ChildProcess.await("every object's metric served", timeout, Duration.ofMillis(100), () -> objects.stream()
                .allMatch(object -> {
                    String[] nsName = object.split("/");
                    MetricStore.Slot slot = adapter.store().slot(new MetricStore.Key(nsName[0], nsName[1], metric));
                    return slot != null && slot.value() != null && adapter.store().servable(slot);
                }));
    }

    private static Process startOperator(Scenario scenario, String id, int metricsPort, int feedPort,
                                         LocalControlPlane plane, Path logs) throws Exception {
        return ChildProcess.start(List.of(ChildProcess.javaExecutable(), "-cp", ChildProcess.absoluteClassPath(),
                OperatorCommand.class.getName(), "--kubeconfig", plane.kubeconfig().toString(), "--sharded",
                "--shard-filter", scenario.filter().equals("apiserver") ? "auto" : "operator", "--namespace", scenario.leases(), "--identity", id,
                "--lease-duration", "3s", "--metrics-feed", "127.0.0.1:" + feedPort, "--health-address", "off",
                "--metrics-address", "127.0.0.1:" + metricsPort, "--webhook-address", "off"),
                logs, logs.resolve(id + ".log"));
    }

    /** Until each of {@code members} is settled in a membership of exactly them. */
    private static void awaitSettled(List<String> members, Map<String, Integer> ports, Duration timeout) throws Exception {
        ChildProcess.await(members + " settled", timeout, Duration.ofMillis(100), () -> {
            for (String member : members) {
                String metrics = scrape(ports.get(member));
                if (!metrics.contains("\nlagscaler_shard_settled 1.0") || !metrics.contains(
                        "\nlagscaler_shard_members " + members.size() + ".0")) {
                    return false;
                }
            }
            return true;
        });
    }

    /** The ScaledObjects of {@code namespace} whose replicas a replica reports (those it reconciled and holds). */
    private static Set<String> reported(int port, String namespace) {
        Set<String> names = new TreeSet<>();
        java.util.regex.Pattern series = java.util.regex.Pattern.compile(
                "lagscaler_scaledobject_current_replicas\\{namespace=\"" + java.util.regex.Pattern.quote(namespace)
                        + "\",scaledobject=\"([^\"]+)\"}.*");
        scrape(port).lines().forEach(l -> {
            java.util.regex.Matcher m = series.matcher(l);
            if (m.matches()) {
                names.add(m.group(1));
            }
        });
        return names;
    }

    private static String scrape(int port) {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
        } catch (Exception e) {
            return "";
        }
    }

    /**
     * Each ScaledObject's writes (to itself, its HPA keda-hpa-NAME, its target's /scale) by the operators, as
     * [requestReceivedTimestamp, replica identity], in the order the apiserver received them.
     */
    private static Map<String, List<String[]>> writesByObject(Path auditLog, Set<String> namespaces) throws Exception {
        Map<String, List<String[]>> writes = new TreeMap<>();
        List<String> lines = Files.readAllLines(auditLog);
        for (int i = 0; i < lines.size(); i++) {
            JsonNode event;
            try {
                event = JSON.readTree(lines.get(i));
            } catch (IOException e) {
                if (i == lines.size() - 1) {
                    break; // the apiserver is writing it
                }
                throw e;
            }
            JsonNode ref = event.path("objectRef");
            String agent = event.path("userAgent").asText();
            if (!namespaces.contains(ref.path("namespace").asText()) || !agent.startsWith("lagscaler-operator/")) {
                continue;
            }
            String name = ref.path("name").asText();
            String object = switch (ref.path("resource").asText()) {
                case "horizontalpodautoscalers" -> name.replaceFirst("^keda-hpa-", "");
                case "scaledobjects" -> name;
                case "deployments" -> name.replaceFirst("^c-", "so-");
                default -> null;
            };
            if (object != null && !name.isEmpty()) {
                writes.computeIfAbsent(ref.path("namespace").asText() + "/" + object, k -> new ArrayList<>()).add(new String[] {
                        event.path("requestReceivedTimestamp").asText(),
                        agent.substring("lagscaler-operator/".length())});
            }
        }
        writes.values().forEach(list -> list.sort((a, b) -> Instant.parse(a[0]).compareTo(Instant.parse(b[0]))));
        return writes;
    }

    /**
     * Until every object has been written, since {@code since}, by its owner in {@code ring}: the ticker's changes have
     * reached each owner in this membership, so the audit log holds a stretch of it for every object.
     */
    private static void awaitWrittenByOwners(LocalControlPlane plane, Scenario scenario, Map<String, String> uids,
                                             ShardRing ring, Instant since) throws IOException {
        ChildProcess.await("every object written by its owner among " + ring.members(), Duration.ofSeconds(60),
                Duration.ofMillis(500), () -> {
                    Map<String, List<String[]>> writes = writesByObject(plane.auditLog(), Set.copyOf(scenario.namespaces()));
                    return uids.entrySet().stream().allMatch(so -> writes.getOrDefault(so.getKey(), List.of()).stream()
                            .anyMatch(w -> w[1].equals(ring.owner(so.getValue())) && !Instant.parse(w[0]).isBefore(since)));
                });
    }

    private static String describe(List<String[]> writes) {
        StringBuilder out = new StringBuilder();
        writes.forEach(w -> out.append(w[0], 11, 23).append(' ').append(w[1]).append("; "));
        return out.toString();
    }
}
