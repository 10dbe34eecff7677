package dev.lagscaler.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lagscaler.controller.Operator;
import dev.lagscaler.controller.OperatorConfig;
import dev.lagscaler.lag.kafka.LagEngine;
import dev.lagscaler.testing.ChildProcess;
import dev.lagscaler.testing.EmbeddedKafka;
import dev.lagscaler.testing.KafkaTestData;
import dev.lagscaler.testing.LocalControlPlane;
import dev.lagscaler.testing.WithControlPlane;
import dev.lagscaler.testing.WithKafka;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/** {@code lagscaler explain} on a live object the operator scales: the numbers are the cluster's and Kafka's. */
@WithKafka
@WithControlPlane
class ExplainCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static String[] run(String... args) {
        var cli = LagscalerCli.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        int exit = cli.execute(args);
        return new String[] {Integer.toString(exit), out.toString(), err.toString()};
    }

    @Test
    void explainsALiveScaledObject(EmbeddedKafka kafka, LocalControlPlane plane) throws Exception {
        String ns = "explain";
        plane.kubectl("create", "namespace", ns);
        plane.kubectl("-n", ns, "create", "deployment", "consumer-deployment", "--image=consumer:1.0", "--replicas=0");
        KafkaTestData.createTopic(kafka.bootstrapServers(), "explained", 3);
        Map<TopicPartition, Long> committed = new HashMap<>();
        for (int p = 0; p < 3; p++) {
            committed.put(new TopicPartition("explained", p), 0L);
        }
        KafkaTestData.commit(kafka.bootstrapServers(), "explained-group", committed);
        KafkaTestData.produce(kafka.bootstrapServers(), "explained", 0, 70);
        KafkaTestData.produce(kafka.bootstrapServers(), "explained", 2, 5);
        Path so = Files.createTempFile(plane.directory(), "so-", ".yaml");
        Files.writeString(so, """
                apiVersion: keda.sh/v1alpha1
                kind: ScaledObject
                metadata: {name: orders}
                spec:
                  scaleTargetRef: {name: consumer-deployment}
                  pollingInterval: 2
                  maxReplicaCount: 5
                  triggers:
                  - type: kafka
                    metadata: {bootstrapServers: "%s", consumerGroup: explained-group, topic: explained, lagThreshold: "10",
                               drainWithinSeconds: "60"}
                """.formatted(kafka.bootstrapServers()));
        plane.kubectl("-n", ns, "apply", "-f", so.toString());
        var client = plane.apiClient();
        client.setReadTimeout(0);
        try (LagEngine engine = new LagEngine(LagEngine.Options.defaults());
             Operator operator = new Operator(client, engine, OperatorConfig.defaults("explain-operator")
                     .withNamespace("lagscaler-explain").withFastActivationInterval(Duration.ofMillis(500)))) {
            operator.start();
            // Activated, and the pass after the replica write has written the status explain reads.
            ChildProcess.await("activated, its status written", Duration.ofSeconds(60), Duration.ofMillis(300),
                    () -> plane.kubectl("-n", ns, "get", "deployment", "consumer-deployment", "-o", "jsonpath={.spec.replicas}")
                            .trim().equals("1") && plane.kubectl("-n", ns, "get", "scaledobject", "orders", "-o",
                            "jsonpath={.status.conditions[?(@.type==\"Active\")].status}").trim().equals("True"));

            String[] json = run("explain", ns + "/orders", "--kubeconfig", plane.kubeconfig().toString(), "-o", "json");
            assertEquals("0", json[0], json[2]);
            JsonNode doc = JSON.readTree(json[1]);
            assertEquals(1, doc.path("target").path("replicas").asInt());
            JsonNode trigger = doc.path("triggers").get(0);
            assertEquals(75, trigger.path("totalLag").asLong(), json[1]);
            assertEquals(30, trigger.path("metricValue").asLong(), "75 capped at 3 partitions x 10");
            assertTrue(trigger.path("active").asBoolean());
            assertEquals(0, trigger.path("topPartitions").get(0).path("partition").asInt(), "most lag first");
            assertEquals(70, trigger.path("topPartitions").get(0).path("lag").asLong());
            assertTrue(trigger.path("why").asText().contains("partition cap: 3 replicas x lagThreshold 10 = 30 (applied)"),
                    trigger.path("why").asText());
            assertEquals("s0-kafka-explained", trigger.path("metric").asText());
            assertTrue(doc.path("decision").path("reason").asText().length() > 0, json[1]);
            assertEquals("keda-hpa-orders", doc.path("hpa").path("name").asText());
            assertTrue(doc.path("events").toString().contains("KEDAScaleTargetActivated"), doc.path("events").toString());
            assertEquals("True", doc.path("state").path("Ready").path("status").asText(), json[1]);
            // lagscaler's own: the consumer group's health as the operator judged it, and the drain-time sizing.
            assertEquals("Healthy", doc.path("state").path("ConsumerHealthy").path("reason").asText(), json[1]);
            assertEquals(60, trigger.path("drainWithinSeconds").asInt());
            assertTrue(trigger.path("drainSizing").asText().contains("lagThreshold decides")
                    || trigger.path("drainSizing").asText().contains("records/s per replica"), json[1]);

            String[] table = run("explain", ns + "/orders", "--kubeconfig", plane.kubeconfig().toString());
            assertEquals("0", table[0], table[2]);
            assertTrue(table[1].contains("explain/orders -> Deployment consumer-deployment: 1 replicas"), table[1]);
            assertTrue(table[1].contains("KEDAScaleTargetActivated"), table[1]);
            assertTrue(table[1].contains("ConsumerHealthy=True Healthy"), table[1]);
            assertTrue(table[1].contains("drainWithinSeconds (the operator's last sizing): "), table[1]);
            String[] yaml = run("explain", ns + "/orders", "--kubeconfig", plane.kubeconfig().toString(), "-o", "yaml");
            assertTrue(yaml[1].contains("totalLag: 75"), yaml[1]);

            assertEquals("2", run("explain", "no-slash", "--kubeconfig", plane.kubeconfig().toString())[0]);
            assertEquals("2", run("explain", ns + "/orders", "-o", "xml", "--kubeconfig", plane.kubeconfig().toString())[0]);
            String[] missing = run("explain", ns + "/absent", "--kubeconfig", plane.kubeconfig().toString());
            assertEquals("1", missing[0]);
            assertTrue(missing[2].contains("no such ScaledObject"), missing[2]);
        }
    }

    @Test
    void explainsALiveScaledJob(EmbeddedKafka kafka, LocalControlPlane plane) throws Exception {
        String ns = "explain-jobs";
        plane.kubectl("create", "namespace", ns);
        KafkaTestData.createTopic(kafka.bootstrapServers(), "batched", 4);
        Map<TopicPartition, Long> committed = new HashMap<>();
        for (int p = 0; p < 4; p++) {
            committed.put(new TopicPartition("batched", p), 0L);
        }
        KafkaTestData.commit(kafka.bootstrapServers(), "batched-group", committed);
        for (int p = 0; p < 4; p++) {
            KafkaTestData.produce(kafka.bootstrapServers(), "batched", p, p < 3 ? 9 : 8);
        }
        Path sj = Files.createTempFile(plane.directory(), "sj-", ".yaml");
        Files.writeString(sj, """
                apiVersion: keda.sh/v1alpha1
                kind: ScaledJob
                metadata: {name: batches}
                spec:
                  jobTargetRef:
                    template:
                      spec:
                        containers:
                        - {name: consumer, image: "consumer:1.0"}
                        restartPolicy: Never
                  pollingInterval: 2
                  maxReplicaCount: 10
                  triggers:
                  - type: kafka
                    metadata: {bootstrapServers: "%s", consumerGroup: batched-group, topic: batched, lagThreshold: "10"}
                """.formatted(kafka.bootstrapServers()));
        plane.kubectl("-n", ns, "apply", "-f", sj.toString());
        var client = plane.apiClient();
        client.setReadTimeout(0);
        String kubeconfig = plane.kubeconfig().toString();
        try (LagEngine engine = new LagEngine(LagEngine.Options.defaults());
             Operator operator = new Operator(client, engine, OperatorConfig.defaults("explain-jobs-operator")
                     .withNamespace("lagscaler-explain-jobs").withFastActivationInterval(Duration.ofMillis(500)))) {
            operator.start();
            // 35 records at 10 a Job: 4 Jobs. This control plane has no kubelet: their pods never run, so they stay
            // pending by KEDA's rule, and the operator makes no more while they wait.
            ChildProcess.await("4 Jobs", Duration.ofSeconds(60), Duration.ofMillis(300),
                    () -> plane.kubectl("-n", ns, "get", "jobs", "-o", "name").lines().count() == 4);

            String[] json = run("explain", "sj", ns + "/batches", "--kubeconfig", kubeconfig, "-o", "json");
            assertEquals("0", json[0], json[2]);
            JsonNode doc = JSON.readTree(json[1]);
            assertEquals(35, doc.path("triggers").get(0).path("totalLag").asLong(), json[1]);
            JsonNode decision = doc.path("decision");
            assertEquals(35, decision.path("queueLength").asLong(), json[1]);
            assertEquals(4, decision.path("runningJobCount").asLong(), json[1]);
            assertEquals(4, decision.path("pendingJobCount").asLong(), json[1]);
            assertEquals(0, decision.path("jobsToCreate").asLong(), "4 Jobs for 35 records already exist: " + json[1]);
            assertEquals(4, doc.path("jobs").size(), json[1]);
            doc.path("jobs").forEach(j -> assertEquals("pending", j.path("state").asText(), json[1]));
            assertEquals("True", doc.path("state").path("Active").path("status").asText(), json[1]);
            assertTrue(doc.path("events").toString().contains("KEDAJobsCreated"), json[1]);

            // The Jobs finish and commit their share: nothing is left, and explain says no Job is to be made.
            Map<TopicPartition, Long> drained = new HashMap<>();
            for (int p = 0; p < 4; p++) {
                drained.put(new TopicPartition("batched", p), p < 3 ? 9L : 8L);
            }
            KafkaTestData.commit(kafka.bootstrapServers(), "batched-group", drained);
            String[] table = run("explain", "scaledjob", ns + "/batches", "--kubeconfig", kubeconfig);
            assertEquals("0", table[0], table[2]);
            assertTrue(table[1].contains("explain-jobs/batches (strategy default, max of 1 triggers; min 0, max 10 Jobs)"),
                    table[1]);
            assertTrue(table[1].contains("decision: create 0 Jobs"), table[1]);
            assertTrue(table[1].contains("queue length 0, running 4 (pending 4)"), table[1]);

            String[] badKind = run("explain", "widget", ns + "/batches", "--kubeconfig", kubeconfig);
            assertEquals("2", badKind[0]);
            assertTrue(badKind[2].contains("scaledjob (sj)"), badKind[2]);
            String[] missing = run("explain", "sj", ns + "/absent", "--kubeconfig", kubeconfig);
            assertEquals("1", missing[0]);
            assertTrue(missing[2].contains("no such ScaledJob"), missing[2]);
        }
    }
}
