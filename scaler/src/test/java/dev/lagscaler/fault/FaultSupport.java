package dev.lagscaler.fault;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lagscaler.controller.Operator;
import dev.lagscaler.controller.OperatorConfig;
import dev.lagscaler.lag.kafka.LagEngine;
import dev.lagscaler.metrics.MetricsSink;
import dev.lagscaler.testing.LocalControlPlane;
import java.nio.file.Files;
import java.nio.file.Path;

/** What the fault cases share: an in-process operator on the control plane, and kubectl-level reads. */
final class FaultSupport {
    private static final ObjectMapper JSON = new ObjectMapper();

    private FaultSupport() {
    }

    /** An operator as the process runs it: a watch client with no read timeout, a request client with one. */
    static Operator operator(LocalControlPlane plane, LagEngine engine, String name) throws Exception {
        return operator(plane, engine, OperatorConfig.defaults(name).withNamespace("lagscaler-" + name));
    }

    static Operator operator(LocalControlPlane plane, LagEngine engine, OperatorConfig config) throws Exception {
        var watches = plane.apiClient();
        watches.setReadTimeout(0);
        return new Operator(watches, plane.apiClient(), engine, config, MetricsSink.NONE);
    }

    /**
     * kafka-scaledobject on consumer-deployment, polled every second with a 1 s cooldown (so a wrong inactive reading
     * would show at once), lagThreshold 10; {@code extraSpec} is one more line of spec.
     */
    static String scaledObject(String bootstrap, String group, String topic, String extraSpec) {
        return """
                apiVersion: keda.sh/v1alpha1
                kind: ScaledObject
                metadata: {name: kafka-scaledobject}
                spec:
                  scaleTargetRef: {name: consumer-deployment}
                  pollingInterval: 1
                  cooldownPeriod: 1
                  %s
                  triggers:
                  - type: kafka
                    metadata: {bootstrapServers: "%s", consumerGroup: %s, topic: %s, lagThreshold: "10"}
                """.formatted(extraSpec, bootstrap, group, topic);
    }

    static void apply(LocalControlPlane plane, String ns, String yaml) throws Exception {
        Path file = Files.createTempFile(plane.directory(), "manifest-", ".yaml");
        Files.writeString(file, yaml);
        plane.kubectl("-n", ns, "apply", "-f", file.toString());
    }

    static int replicas(LocalControlPlane plane, String ns) throws Exception {
        return Integer.parseInt(plane.kubectl("-n", ns, "get", "deployment", "consumer-deployment",
                "-o", "jsonpath={.spec.replicas}").trim());
    }

    /**
     * kube-apiserver's own count of requests with these labels ({@code apiserver_request_total}), e.g. successful
     * PUTs of deployments/scale.
     */
    static long apiserverRequests(LocalControlPlane plane, String verb, String resource, String subresource, String code)
            throws Exception {
        long total = 0;
        for (String line : plane.kubectl("get", "--raw", "/metrics").split("\n")) {
            if (line.startsWith("apiserver_request_total{") && line.contains("verb=\"" + verb + "\"")
                    && line.contains("resource=\"" + resource + "\"") && line.contains("subresource=\"" + subresource + "\"")
                    && line.contains("code=\"" + code + "\"")) {
                total += Math.round(Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)));
            }
        }
        return total;
    }

    /** The status of condition {@code type} of kafka-scaledobject, or "" when it has none. */
    static String condition(LocalControlPlane plane, String ns, String type) throws Exception {
        JsonNode so = JSON.readTree(plane.kubectl("-n", ns, "get", "scaledobject", "kafka-scaledobject", "-o", "json"));
        for (JsonNode c : so.path("status").path("conditions")) {
            if (c.path("type").asText().equals(type)) {
                return c.path("status").asText();
            }
        }
        return "";
    }
}
