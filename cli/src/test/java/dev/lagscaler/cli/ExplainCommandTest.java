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
            ChildProcess.await("activated", Duration.ofSeconds(60), Duration.ofMillis(300),
                    () -> plane.kubectl("-n", ns, "get", "deployment", "consumer-deployment", "-o", "jsonpath={.spec.replicas}")
                            .trim().equals("1"));

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
}
