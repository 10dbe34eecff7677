package dev.lagscaler.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code lagscaler evaluate} through its command line: output documents and exit codes. */
class EvaluateCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    Path dir;

    record Run(int exit, String out) {
        JsonNode json() throws Exception {
            return JSON.readTree(out);
        }
    }

    private Run run(String input) throws Exception {
        Path file = dir.resolve("input.json");
        Files.writeString(file, input);
        CommandLine cli = LagscalerCli.commandLine();
        StringWriter out = new StringWriter();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(new StringWriter()));
        int exit = cli.execute("evaluate", "--file", file.toString());
        return new Run(exit, out.toString().trim());
    }

    @Test
    void theIssuesExampleGivesTheIssuesOutput() throws Exception {
        Run r = run("""
                {"triggerMetadata":{"bootstrapServers":"k:9092","consumerGroup":"g","topic":"t"},"authParams":{},
                 "triggerIndex":0,"offsets":[{"topic":"t","partition":0,"committed":100,"latest":105,"earliest":0},
                 {"topic":"t","partition":1,"committed":null,"latest":20},{"topic":"t","partition":2,"committed":5,"latest":14}]}
                """);
        assertEquals(0, r.exit());
        assertEquals("{\"metricName\":\"s0-kafka-t\",\"metricValue\":15,\"active\":true,"
                + "\"target\":{\"type\":\"AverageValue\",\"value\":10},\"activationTarget\":0}", r.out());
    }

    @Test
    void invalidInputIsAnErrorDocumentWithExitCode2() throws Exception {
        Run r = run("{\"triggerMetadata\":{\"bootstrapServers\":\"k:9092\",\"consumerGroup\":\"g\",\"lagThreshold\":\"x\"}}");
        assertEquals(2, r.exit());
        assertTrue(r.json().get("error").asText().contains("lagThreshold"));
        assertEquals(2, run("not json").exit());
        assertEquals(2, run("").exit());
        assertEquals(2, run("{\"triggerMetadata\":{\"bootstrapServers\":\"k\",\"consumerGroup\":\"g\",\"topic\":\"t\"},"
                + "\"offsets\":[{\"partition\":0,\"committed\":\"ten\",\"latest\":5}]}").exit());
    }

    @Test
    void anArrayGivesResultsInOrder() throws Exception {
        Run r = run("""
                [{"triggerMetadata":{"consumerGroup":"g"}},
                 {"triggerMetadata":{"bootstrapServers":"k","consumerGroup":"g","topic":"t"},"triggerIndex":2,
                  "offsets":[{"partition":0,"committed":-1,"latest":null}]}]
                """);
        assertEquals(0, r.exit());
        assertTrue(r.json().get(0).has("error"));
        assertEquals("s2-kafka-t", r.json().get(1).get("metricName").asText());
        assertEquals(0, r.json().get(1).get("metricValue").asLong(), "missing from the log-end answer: 0");
    }

    @Test
    void scaledObjectAndStateAddTheDecision() throws Exception {
        String so = """
                apiVersion: keda.sh/v1alpha1
                kind: ScaledObject
                metadata: {name: kafka-scaledobject}
                spec:
                  scaleTargetRef: {name: consumer-deployment}
                  cooldownPeriod: 300
                  triggers:
                  - type: kafka
                    metadata: {bootstrapServers: "kafka:9092", consumerGroup: my-group, topic: events, lagThreshold: "50"}
                """;
        Run drained = run(JSON.createObjectNode().put("scaledObject", so)
                .set("state", JSON.readTree("{\"currentReplicas\":3,\"lastActiveTime\":\"2026-01-01T00:00:00Z\",\"now\":\"2026-01-01T00:06:00Z\"}"))
                .toString().replace("}}", "},\"offsets\":[{\"topic\":\"events\",\"partition\":0,\"committed\":9,\"latest\":9}]}"));
        assertEquals(0, drained.exit(), drained.out());
        JsonNode decision = drained.json().get("decision");
        assertEquals(0, decision.get("replicas").asInt());
        assertTrue(decision.get("scaleWrite").asBoolean());
        assertEquals("ScalerNotActive", decision.get("conditions").get("Active").get("reason").asText());

        Run failing = run(JSON.createObjectNode().put("scaledObject", so)
                .set("state", JSON.readTree("{\"currentReplicas\":3,\"triggerErrors\":7,\"now\":\"2026-01-01T00:06:00Z\"}")).toString());
        assertEquals(3, failing.json().get("decision").get("replicas").asInt(), "an error never scales to zero");
        assertEquals("TriggerError", failing.json().get("decision").get("conditions").get("Ready").get("reason").asText());
    }

    /** The issue's ScaledJob snapshot: the Jobs one pass creates, and why, from the same arithmetic as the operator. */
    @Test
    void aScaledJobSnapshotGivesTheJobsToCreate() throws Exception {
        String scaledJob = """
                {"metadata":{"name":"batches","namespace":"default"},
                 "spec":{"jobTargetRef":{"template":{"spec":{"containers":[{"name":"w","image":"w"}]}}},
                         "maxReplicaCount":10,"scalingStrategy":{"strategy":"%s"},
                         "triggers":[{"type":"kafka","metadata":{"bootstrapServers":"k:9092","consumerGroup":"g",
                                      "topic":"t","lagThreshold":"10"}}]}}""";
        Run standard = run("{\"scaledJob\":" + scaledJob.formatted("default")
                + ",\"queueLength\":35,\"runningJobCount\":1,\"pendingJobCount\":0}");
        assertEquals(0, standard.exit(), standard.out());
        assertEquals(3, standard.json().get("jobsToCreate").asLong(), "35 records at 10 a Job ask 4, 1 runs: "
                + standard.out());
        assertEquals(4, standard.json().get("jobsAskedFor").asLong());
        assertTrue(standard.json().get("reason").asText().startsWith("default strategy: 4 asked for (queue 35)"),
                standard.out());
        Run eager = run("{\"scaledJob\":" + scaledJob.formatted("eager")
                + ",\"queueLength\":35,\"runningJobCount\":1,\"pendingJobCount\":2}");
        assertEquals(4, eager.json().get("jobsToCreate").asLong(), "eager: min(10 - 1 - 2, 4): " + eager.out());
        Run bad = run("{\"scaledJob\":" + scaledJob.formatted("fastest") + ",\"queueLength\":35}");
        assertEquals(2, bad.exit());
        assertTrue(bad.json().get("error").asText().contains("scalingStrategy.strategy"), bad.out());
        assertEquals(2, run("{\"scaledJob\":" + scaledJob.formatted("default") + "}").exit(), "no queueLength");
    }
}
