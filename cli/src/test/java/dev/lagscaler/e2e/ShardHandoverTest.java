package dev.lagscaler.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
    private static final String NS = "shards";
    private static final String LEASES = "lagscaler-shards";
    private static final int OBJECTS = 24;
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @Test
    void noObjectHasTwoWritersAsReplicasJoinAndDie(EmbeddedKafka kafka, LocalControlPlane plane) throws Exception {
        plane.kubectl("create", "namespace", NS);
        KafkaTestData.createTopic(kafka.bootstrapServers(), "shard-events", 1);
        KafkaTestData.commit(kafka.bootstrapServers(), "shard-group", Map.of(new TopicPartition("shard-events", 0), 0L));
        StringBuilder yaml = new StringBuilder();
        for (int i = 0; i < OBJECTS; i++) {
            yaml.append("""
                    apiVersion: apps/v1
                    kind: Deployment
                    metadata: {name: c-%1$d}
                    spec:
                      replicas: 1
                      selector: {matchLabels: {app: c-%1$d}}
                      template:
                        metadata: {labels: {app: c-%1$d}}
                        spec: {containers: [{name: c, image: "consumer:1.0"}]}
                    ---
                    apiVersion: keda.sh/v1alpha1
                    kind: ScaledObject
                    metadata: {name: so-%1$d}
                    spec:
                      scaleTargetRef: {name: c-%1$d}
                      minReplicaCount: 1
                      maxReplicaCount: 5
                      pollingInterval: 5
                      triggers:
                      - type: kafka
                        metadata: {bootstrapServers: "%2$s", consumerGroup: shard-group, topic: shard-events, lagThreshold: "10"}
                    ---
                    """.formatted(i, kafka.bootstrapServers()));
        }
        ExternalMetricsEndToEndTest.apply(plane, NS, yaml.toString());
        Map<String, String> uids = new TreeMap<>();
        for (JsonNode so : JSON.readTree(plane.kubectl("-n", NS, "get", "scaledobjects", "-o", "json")).path("items")) {
            uids.put(so.path("metadata").path("name").asText(), so.path("metadata").path("uid").asText());
        }

        Path logs = Files.createTempDirectory("shard-operators-");
        Map<String, Process> operators = new LinkedHashMap<>();
        Map<String, Integer> metricPorts = new HashMap<>();
        Map<String, Integer> feedPorts = new HashMap<>();
        for (String id : List.of("shard-a", "shard-b", "shard-c")) {
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
            for (String id : List.of("shard-a", "shard-b")) {
                operators.put(id, startOperator(id, metricPorts.get(id), feedPorts.get(id), plane, logs));
            }
            awaitSettled(List.of("shard-a", "shard-b"), metricPorts, Duration.ofSeconds(90));
            awaitAllServed(adapter, uids.keySet(), Duration.ofSeconds(60));
            ChildProcess.await("an HPA for every object", Duration.ofSeconds(60), Duration.ofMillis(500),
                    () -> plane.kubectl("-n", NS, "get", "hpa", "-o", "name").lines().count() == OBJECTS);

            // Every object's spec changes twice a second: its owner, and only its owner, writes its HPA each time.
            var client = plane.apiClient();
            CustomObjectsApi custom = new CustomObjectsApi(client);
            ticker = new Thread(() -> {
                int tick = 0;
                while (ticking.get()) {
                    tick++;
                    for (String name : uids.keySet()) {
                        String patch = "{\"spec\":{\"maxReplicaCount\":" + (5 + tick % 2) + "}}";
                        try {
                            PatchUtils.patch(Object.class, () -> custom.patchNamespacedCustomObject("keda.sh", "v1alpha1",
                                    NS, "scaledobjects", name, new V1Patch(patch)).buildCall(null),
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
            Thread.sleep(3_000);

            // A third replica joins: it takes about a third, and only from the others.
            Instant joined = Instant.now();
            operators.put("shard-c", startOperator("shard-c", metricPorts.get("shard-c"), feedPorts.get("shard-c"), plane, logs));
            awaitSettled(List.of("shard-a", "shard-b", "shard-c"), metricPorts, Duration.ofSeconds(90));
            figures.put("join_settled_ms", Duration.between(joined, Instant.now()).toMillis());
            awaitAllServed(adapter, uids.keySet(), Duration.ofSeconds(60));
            Thread.sleep(4_000);
            Instant beforeKill = Instant.now();

            // It dies without a word: its share waits for its Lease to lapse (3 s), then moves back.
            Instant killed = Instant.now();
            operators.get("shard-c").destroyForcibly().waitFor();
            operators.remove("shard-c");
            awaitSettled(List.of("shard-a", "shard-b"), metricPorts, Duration.ofSeconds(90));
            figures.put("kill_settled_ms", Duration.between(killed, Instant.now()).toMillis());
            // The killed replica's metrics are unservable only until their new owners send them.
            awaitAllServed(adapter, uids.keySet(), Duration.ofSeconds(60));
            figures.put("kill_to_every_metric_served_ms", Duration.between(killed, Instant.now()).toMillis());
            ChildProcess.await("every HPA reads its metric through the sharded adapter", Duration.ofSeconds(60),
                    Duration.ofSeconds(1), () -> JSON.readTree(plane.kubectl("-n", NS, "get", "hpa", "-o", "json"))
                            .path("items").findValues("conditions").stream().filter(c -> c.toString()
                                    .contains("\"ScalingActive\",\"status\":\"True\"") || c.toString().contains(
                                    "\"status\":\"True\",\"type\":\"ScalingActive\"")).count() == OBJECTS);
            Thread.sleep(4_000);
            ticking.set(false);
            ticker.join();
            Thread.sleep(2_000);

            // The apiserver's shard selector gives each member of a ring exactly what the ring gives it.
            ShardRing three = ShardRing.of(List.of("shard-a", "shard-b", "shard-c"));
            for (String member : three.members()) {
                JsonNode list = JSON.readTree(plane.kubectl("get", "--raw", "/apis/keda.sh/v1alpha1/namespaces/" + NS
                        + "/scaledobjects?shardSelector=" + URLEncoder.encode(three.selector(member), StandardCharsets.UTF_8)));
                Set<String> served = new TreeSet<>();
                list.path("items").forEach(so -> served.add(so.path("metadata").path("name").asText()));
                Set<String> expected = new TreeSet<>();
                uids.forEach((name, uid) -> {
                    if (member.equals(three.owner(uid))) {
                        expected.add(name);
                    }
                });
                assertEquals(expected, served, "the apiserver's shardRange and the ring agree for " + member);
            }
            // A typed list echoes the selector it applied (a custom resource's list, unstructured, does not in 1.36.3).
            JsonNode leases = JSON.readTree(plane.kubectl("get", "--raw", "/apis/coordination.k8s.io/v1/namespaces/" + LEASES
                    + "/leases?shardSelector=" + URLEncoder.encode(three.selector("shard-a"), StandardCharsets.UTF_8)));
            assertEquals(three.selector("shard-a"), leases.path("metadata").path("shardInfo").path("selector").asText(),
                    leases.path("metadata").toString());

            // Who wrote each object, in the order the apiserver received it.
            Map<String, List<String[]>> writes = writesByObject(plane.auditLog());
            ShardRing two = ShardRing.of(List.of("shard-a", "shard-b"));
            int switches = 0;
            int total = 0;
            List<String> problems = new ArrayList<>();
            for (Map.Entry<String, String> so : uids.entrySet()) {
                List<String[]> mine = writes.getOrDefault(so.getKey(), List.of());
                total += mine.size();
                int changes = 0;
                for (int i = 1; i < mine.size(); i++) {
                    if (!mine.get(i)[1].equals(mine.get(i - 1)[1])) {
                        changes++;
                    }
                }
                switches += changes;
                // Two membership changes touch an object at most twice (to the joiner, back from it).
                if (changes > 2) {
                    problems.add(so.getKey() + " changed writer " + changes + " times: " + describe(mine));
                }
                String lastBeforeKill = null;
                for (String[] w : mine) {
                    if (Instant.parse(w[0]).isBefore(beforeKill)) {
                        lastBeforeKill = w[1];
                    }
                }
                if (!three.owner(so.getValue()).equals(lastBeforeKill)) {
                    problems.add(so.getKey() + " last written by " + lastBeforeKill + " with three replicas, owner "
                            + three.owner(so.getValue()));
                }
                String last = mine.isEmpty() ? null : mine.get(mine.size() - 1)[1];
                if (!two.owner(so.getValue()).equals(last)) {
                    problems.add(so.getKey() + " last written by " + last + ", owner " + two.owner(so.getValue()));
                }
            }
            figures.put("objects", OBJECTS);
            figures.put("writes", total);
            figures.put("writer_changes", switches);
            figures.put("objects_with_two_writers_at_once", problems.stream().filter(p -> p.contains("changed writer")).count());
            FaultFigures.record("shard_handover", figures);
            assertEquals(List.of(), problems);
            assertTrue(total > OBJECTS * 10, "the owners kept writing through the changes: " + total + " writes");
        } finally {
            ticking.set(false);
            if (ticker != null) {
                ticker.join();
            }
            operators.values().forEach(p -> ChildProcess.stop(p, Duration.ofSeconds(10)));
            adapter.close();
        }
    }

    /** Until the adapter serves every object's metric (from whichever replica owns it). */
    private static void awaitAllServed(MetricsAdapter adapter, Set<String> objects, Duration timeout) throws Exception {
        ChildProcess.await("every object's metric served", timeout, Duration.ofMillis(100), () -> objects.stream()
                .allMatch(name -> {
                    MetricStore.Slot slot = adapter.store().slot(new MetricStore.Key(NS, name, "s0-kafka-shard-events"));
                    return slot != null && slot.value() != null && adapter.store().servable(slot);
                }));
    }

    private static Process startOperator(String id, int metricsPort, int feedPort, LocalControlPlane plane, Path logs)
            throws Exception {
        return ChildProcess.start(List.of(ChildProcess.javaExecutable(), "-cp", ChildProcess.absoluteClassPath(),
                OperatorCommand.class.getName(), "--kubeconfig", plane.kubeconfig().toString(), "--sharded",
                "--namespace", LEASES, "--identity", id, "--lease-duration", "3s", "--metrics-feed", "127.0.0.1:" + feedPort,
                "--health-address", "off", "--metrics-address", "127.0.0.1:" + metricsPort, "--webhook-address", "off"),
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
    private static Map<String, List<String[]>> writesByObject(Path auditLog) throws Exception {
        Map<String, List<String[]>> writes = new TreeMap<>();
        for (String line : Files.readAllLines(auditLog)) {
            JsonNode event = JSON.readTree(line);
            JsonNode ref = event.path("objectRef");
            String agent = event.path("userAgent").asText();
            if (!NS.equals(ref.path("namespace").asText()) || !agent.startsWith("lagscaler-operator/")) {
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
                writes.computeIfAbsent(object, k -> new ArrayList<>()).add(new String[] {
                        event.path("requestReceivedTimestamp").asText(),
                        agent.substring("lagscaler-operator/".length())});
            }
        }
        writes.values().forEach(list -> list.sort((a, b) -> Instant.parse(a[0]).compareTo(Instant.parse(b[0]))));
        return writes;
    }

    private static String describe(List<String[]> writes) {
        StringBuilder out = new StringBuilder();
        writes.forEach(w -> out.append(w[0], 11, 23).append(' ').append(w[1]).append("; "));
        return out.toString();
    }
}
