package dev.lagscaler.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lagscaler.controller.OperatorCommand;
import dev.lagscaler.testing.ChildProcess;
import dev.lagscaler.testing.EmbeddedKafka;
import dev.lagscaler.testing.FaultFigures;
import dev.lagscaler.testing.KafkaTestData;
import dev.lagscaler.testing.LocalControlPlane;
import dev.lagscaler.testing.WithControlPlane;
import dev.lagscaler.testing.WithKafka;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Fault case: the operator process killed with SIGKILL at random points of its work, again and again, while
 * ScaledObjects are created, edited and deleted. A last operator must converge: every live object ready with its
 * finalizer and exactly one HPA of the right shape, every deleted object gone with no HPA left behind.
 * CI kills 8 times; {@code -Dlagscaler.fault.kills=50} runs the 50.
 */
@Tag("fault")
@WithKafka
@WithControlPlane
class OperatorKillFaultTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String NS = "fault-kill";
    private static final String TOPIC = "fault-kill-events";

    @Test
    void killedAtRandomPointsItStillConverges(EmbeddedKafka kafka, LocalControlPlane plane) throws Exception {
        int kills = Integer.getInteger("lagscaler.fault.kills", 8);
        Random random = new Random(20261126L);
        plane.kubectl("create", "namespace", NS);
        KafkaTestData.createTopic(kafka.bootstrapServers(), TOPIC, 2);
        KafkaTestData.produce(kafka.bootstrapServers(), TOPIC, 0, 40);
        Map<String, Integer> live = new LinkedHashMap<>(); // name -> maxReplicaCount
        Set<String> deleted = new HashSet<>();
        for (int i = 0; i < 6; i++) {
            create(plane, kafka, "so-" + i, i % 2 == 0, live, 5 + i);
        }
        long scaleWritesBefore = FaultSupport.apiserverRequests(plane, "PUT", "deployments", "scale", "200");
        long generationsBefore = generations(plane);
        Path logs = Files.createTempDirectory("kill-");
        List<Long> runMillis = new ArrayList<>();
        int next = 6;
        try {
            for (int k = 0; k < kills; k++) {
                Process operator = start(plane, logs, k);
                long began = System.nanoTime();
                // While it works: one change to the objects, then a kill at a random moment.
                Thread.sleep(1_000 + random.nextInt(3_000));
                switch (random.nextInt(3)) {
                    case 0 -> create(plane, kafka, "so-" + next++, random.nextBoolean(), live, 3 + random.nextInt(8));
                    case 1 -> {
                        if (!live.isEmpty()) {
                            String victim = new ArrayList<>(live.keySet()).get(random.nextInt(live.size()));
                            plane.kubectl("-n", NS, "delete", "scaledobject", victim, "--wait=false");
                            live.remove(victim);
                            deleted.add(victim);
                        }
                    }
                    default -> {
                        if (!live.isEmpty()) {
                            String edited = new ArrayList<>(live.keySet()).get(random.nextInt(live.size()));
                            int max = 3 + random.nextInt(8);
                            plane.kubectl("-n", NS, "patch", "scaledobject", edited, "--type=merge",
                                    "-p", "{\"spec\":{\"maxReplicaCount\":" + max + "}}");
                            live.put(edited, max);
                        }
                    }
                }
                Thread.sleep(random.nextInt(2_000));
                operator.destroyForcibly().waitFor();
                runMillis.add((System.nanoTime() - began) / 1_000_000);
            }
            Process last = start(plane, logs, kills);
            long began = System.nanoTime();
            try {
                ChildProcess.await("convergence after " + kills + " kills", Duration.ofSeconds(120), Duration.ofMillis(500),
                        () -> converged(plane, live, deleted).isEmpty());
            } catch (java.io.IOException e) {
                throw new AssertionError(e.getMessage() + ": " + converged(plane, live, deleted), e);
            }
            long convergedMs = (System.nanoTime() - began) / 1_000_000;
            ChildProcess.stop(last, Duration.ofSeconds(10));
            // Each successful /scale write that changed spec.replicas moved its Deployment's generation by one (no
            // HPA acts here: no adapter serves its metrics). More writes than moves would be duplicate writes.
            long scaleWrites = FaultSupport.apiserverRequests(plane, "PUT", "deployments", "scale", "200") - scaleWritesBefore;
            long replicaChanges = generations(plane) - generationsBefore - (next - 6); // a new Deployment starts at 1
            // Counted from the apiserver after convergence: live objects missing or not Ready, and HPAs whose
            // ScaledObject is not live.
            Set<String> ready = new HashSet<>();
            for (JsonNode so : JSON.readTree(plane.kubectl("-n", NS, "get", "scaledobject", "-o", "json")).path("items")) {
                for (JsonNode c : so.path("status").path("conditions")) {
                    if (c.path("type").asText().equals("Ready") && c.path("status").asText().equals("True")) {
                        ready.add(so.path("metadata").path("name").asText());
                    }
                }
            }
            long lost = live.keySet().stream().filter(name -> !ready.contains(name)).count();
            long orphans = 0;
            for (JsonNode hpa : JSON.readTree(plane.kubectl("-n", NS, "get", "hpa", "-o", "json")).path("items")) {
                if (!live.containsKey(hpa.path("metadata").path("labels").path("scaledobject.keda.sh/name").asText())) {
                    orphans++;
                }
            }
            assertEquals(0, lost, "live objects not Ready after convergence");
            assertEquals(0, orphans, "HPAs left without a live ScaledObject");
            FaultFigures.record("operator-kill-9", Map.of("kills", kills, "objects_live", live.size(),
                    "objects_deleted", deleted.size(), "lost_objects", lost, "orphan_hpas", orphans,
                    "converged_ms_after_last_start", convergedMs, "run_before_kill_ms", runMillis,
                    "scale_writes", scaleWrites, "replica_changes", replicaChanges,
                    "duplicate_scale_writes", scaleWrites - replicaChanges));
            assertEquals(replicaChanges, scaleWrites, "every /scale write the operator made changed the count: none repeated");
        } finally {
            ChildProcess.deleteRecursively(logs);
            plane.kubectl("delete", "namespace", NS, "--wait=false");
        }
    }

    private static int replicas(LocalControlPlane plane, String name) throws Exception {
        return Integer.parseInt(plane.kubectl("-n", NS, "get", "deployment", "consumer-" + name,
                "-o", "jsonpath={.spec.replicas}").trim());
    }

    /** The sum of the Deployments' metadata.generation (created ones count their first generation). */
    private static long generations(LocalControlPlane plane) throws Exception {
        long sum = 0;
        for (JsonNode d : JSON.readTree(plane.kubectl("-n", NS, "get", "deployments", "-o", "json")).path("items")) {
            sum += d.path("metadata").path("generation").asLong();
        }
        return sum;
    }

    /** What is not yet as it should be; empty once converged. */
    private static List<String> converged(LocalControlPlane plane, Map<String, Integer> live, Set<String> deleted)
            throws Exception {
        List<String> wrong = new ArrayList<>();
        Map<String, JsonNode> objects = new LinkedHashMap<>();
        for (JsonNode so : JSON.readTree(plane.kubectl("-n", NS, "get", "scaledobjects", "-o", "json")).path("items")) {
            objects.put(so.path("metadata").path("name").asText(), so);
        }
        Map<String, JsonNode> hpas = new LinkedHashMap<>();
        for (JsonNode hpa : JSON.readTree(plane.kubectl("-n", NS, "get", "hpa", "-o", "json")).path("items")) {
            hpas.put(hpa.path("metadata").path("name").asText(), hpa);
        }
        for (Map.Entry<String, Integer> entry : live.entrySet()) {
            String name = entry.getKey();
            int max = entry.getValue();
            JsonNode so = objects.get(name);
            if (so == null) {
                wrong.add(name + " lost");
                continue;
            }
            if (!so.path("metadata").path("finalizers").toString().contains("finalizer.keda.sh")) {
                wrong.add(name + " without its finalizer");
            }
            boolean ready = false;
            for (JsonNode c : so.path("status").path("conditions")) {
                ready |= c.path("type").asText().equals("Ready") && c.path("status").asText().equals("True");
            }
            if (!ready) {
                wrong.add(name + " not Ready");
            }
            int replicas = replicas(plane, name);
            if (ACTIVE.contains(name) ? replicas < 1 : replicas != 0) {
                wrong.add(name + " at " + replicas + " replicas (" + (ACTIVE.contains(name) ? "active" : "idle") + ")");
            }
            JsonNode hpa = hpas.get("keda-hpa-" + name);
            if (hpa == null || hpa.path("spec").path("maxReplicas").asInt() != max) {
                wrong.add(name + ": HPA " + (hpa == null ? "missing" : "max " + hpa.path("spec").path("maxReplicas")));
            }
        }
        for (String name : deleted) {
            if (objects.containsKey(name)) {
                wrong.add(name + " still there (finalizer not removed)");
            }
            if (hpas.containsKey("keda-hpa-" + name)) {
                wrong.add("orphan HPA of " + name);
            }
        }
        if (hpas.size() != live.size()) {
            wrong.add(hpas.size() + " HPAs for " + live.size() + " live objects");
        }
        return wrong;
    }

    /** The objects created with a backlog (their target must end at 1 or more); the others must end at 0. */
    private static final Set<String> ACTIVE = new HashSet<>();

    private static void create(LocalControlPlane plane, EmbeddedKafka kafka, String name, boolean active,
                               Map<String, Integer> live, int max) throws Exception {
        if (active) {
            ACTIVE.add(name);
        }
        // Every object needs one /scale write: an active one from 0 to 1, an idle one from 1 to 0 after its 1 s cooldown.
        plane.kubectl("-n", NS, "create", "deployment", "consumer-" + name, "--image=consumer:1.0",
                "--replicas=" + (active ? 0 : 1));
        String group = "kill-" + name;
        KafkaTestData.commit(kafka.bootstrapServers(), group, Map.of(new TopicPartition(TOPIC, 0), active ? 0L : 40L,
                new TopicPartition(TOPIC, 1), 0L));
        Path file = Files.createTempFile(plane.directory(), name, ".yaml");
        Files.writeString(file, """
                apiVersion: keda.sh/v1alpha1
                kind: ScaledObject
                metadata: {name: %s}
                spec:
                  scaleTargetRef: {name: consumer-%s}
                  pollingInterval: 2
                  cooldownPeriod: 1
                  maxReplicaCount: %d
                  triggers:
                  - type: kafka
                    metadata: {bootstrapServers: "%s", consumerGroup: %s, topic: %s, lagThreshold: "10"}
                """.formatted(name, name, max, kafka.bootstrapServers(), group, TOPIC));
        plane.kubectl("-n", NS, "apply", "-f", file.toString());
        live.put(name, max);
    }

    private static Process start(LocalControlPlane plane, Path logs, int run) throws Exception {
        // The same identity each time: a restarted process finds itself the holder and leads at once.
        return ChildProcess.start(List.of(ChildProcess.javaExecutable(), "-cp", ChildProcess.absoluteClassPath(),
                OperatorCommand.class.getName(), "--kubeconfig", plane.kubeconfig().toString(),
                "--namespace", "lagscaler-fault-kill", "--identity", "killed", "--lease-duration", "5s",
                "--metrics-feed", "off", "--health-address", "off", "--metrics-address", "off"), logs, logs.resolve("run-" + run + ".log"));
    }
}
