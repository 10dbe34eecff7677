package dev.lagscaler.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lagscaler.adapter.ExternalMetricsServer;
import dev.lagscaler.metrics.MetricsFeedServer;
import dev.lagscaler.adapter.MetricsAdapter;
import dev.lagscaler.controller.Operator;
import dev.lagscaler.controller.OperatorConfig;
import dev.lagscaler.lag.kafka.LagEngine;
import dev.lagscaler.testing.ChildProcess;
import dev.lagscaler.testing.EmbeddedKafka;
import dev.lagscaler.testing.KafkaTestData;
import dev.lagscaler.testing.LocalControlPlane;
import dev.lagscaler.testing.WithControlPlane;
import dev.lagscaler.testing.WithKafka;
import dev.lagscaler.tls.Pki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/**
 * The test the metrics adapter exists for: kube-controller-manager's real HPA controller reads the lag through the
 * real aggregator from our adapter, fed over gRPC by the operator, and scales the Deployment up and down.
 */
@WithKafka
@WithControlPlane
class ExternalMetricsEndToEndTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void realHpaScalesOnLagServedByTheAdapter(EmbeddedKafka kafka, LocalControlPlane plane) throws Exception {
        String ns = "e2e";
        String topic = "e2e-events";
        consumerAndTopic(plane, kafka, ns, topic, "e2e-group", 10);

        Pki.Issued ca = Pki.ca("e2e-adapter-ca");
        Pki.Issued serving = adapterCertificate(ca);
        var client = plane.apiClient();
        client.setReadTimeout(0);
        try (MetricsFeedServer feed = MetricsFeedServer.start("127.0.0.1", 0);
             LagEngine engine = new LagEngine(LagEngine.Options.defaults());
             Operator operator = new Operator(client, engine, OperatorConfig.defaults("e2e-operator")
                     .withNamespace("lagscaler-e2e"), feed);
             MetricsAdapter adapter = MetricsAdapter.start(plane.apiClient(), "127.0.0.1", feed.port(),
                     new ExternalMetricsServer.Options("127.0.0.1", 0, serving.certificatePem(), serving.privateKeyPem()))) {
            operator.start();
            plane.registerExternalMetrics(adapter.port(), ca.certificatePem());
            try {
                scaleThroughTheHpa(kafka, plane, ns, topic);
            } finally {
                plane.unregisterExternalMetrics();
            }
        }
    }

    private void scaleThroughTheHpa(EmbeddedKafka kafka, LocalControlPlane plane, String ns, String topic) throws Exception {
        {

            apply(plane, ns, fastHpaScaledObject(kafka.bootstrapServers(), "e2e-group", topic));
            for (int p = 0; p < 10; p++) {
                KafkaTestData.produce(kafka.bootstrapServers(), topic, p, 40);
            }
            ChildProcess.await("the HPA raises the Deployment to 8", Duration.ofSeconds(120), Duration.ofMillis(500),
                    () -> replicas(plane, ns) == 8);
            String raw = plane.kubectl("get", "--raw", "/apis/external.metrics.k8s.io/v1beta1/namespaces/" + ns
                    + "/s0-kafka-e2e-events?labelSelector=scaledobject.keda.sh%2Fname%3Dkafka-scaledobject");
            JsonNode item = JSON.readTree(raw).path("items").get(0);
            assertEquals("400", item.path("value").asText(), raw);
            assertEquals("s0-kafka-e2e-events", item.path("metricName").asText());

            // A real consumer commits everything: the HPA brings it back down to minReplicas.
            Map<TopicPartition, Long> done = new HashMap<>();
            for (int p = 0; p < 10; p++) {
                done.put(new TopicPartition(topic, p), 40L);
            }
            KafkaTestData.commit(kafka.bootstrapServers(), "e2e-group", done);
            ChildProcess.await("the HPA scales down to 1", Duration.ofSeconds(120), Duration.ofMillis(500),
                    () -> replicas(plane, ns) == 1);

            // The partition cap: 10,000 records on 10 partitions ask for 200 replicas; at most 10 come.
            plane.kubectl("-n", ns, "patch", "scaledobject", "kafka-scaledobject", "--type=merge",
                    "-p", "{\"spec\":{\"maxReplicaCount\":50}}");
            for (int p = 0; p < 10; p++) {
                KafkaTestData.produce(kafka.bootstrapServers(), topic, p, 1000);
            }
            ChildProcess.await("the HPA stops at the partition count", Duration.ofSeconds(120), Duration.ofMillis(500),
                    () -> replicas(plane, ns) == 10);
            Thread.sleep(6000);
            assertEquals(10, replicas(plane, ns), "no more replicas than partitions without allowIdleConsumers");
            assertTrue(plane.kubectl("get", "--raw", "/apis/external.metrics.k8s.io/v1beta1/namespaces/" + ns
                    + "/s0-kafka-e2e-events?labelSelector=scaledobject.keda.sh%2Fname%3Dkafka-scaledobject").contains("\"500\""));
        }
    }

    static int replicas(LocalControlPlane plane, String ns) throws Exception {
        return Integer.parseInt(plane.kubectl("-n", ns, "get", "deployment", "consumer-deployment",
                "-o", "jsonpath={.spec.replicas}").trim());
    }

    /**
     * A namespace with consumer-deployment at 1 replica, and a topic of {@code partitions} partitions whose
     * {@code group} has committed offset 0 everywhere (nothing produced yet).
     */
    static void consumerAndTopic(LocalControlPlane plane, EmbeddedKafka kafka, String ns, String topic, String group,
                                 int partitions) throws Exception {
        plane.kubectl("create", "namespace", ns);
        plane.kubectl("-n", ns, "create", "deployment", "consumer-deployment", "--image=consumer:1.0", "--replicas=1");
        KafkaTestData.createTopic(kafka.bootstrapServers(), topic, partitions);
        Map<TopicPartition, Long> start = new HashMap<>();
        for (int p = 0; p < partitions; p++) {
            start.put(new TopicPartition(topic, p), 0L);
        }
        KafkaTestData.commit(kafka.bootstrapServers(), group, start);
    }

    /** The adapter's serving certificate: the aggregator checks the name of the Service the APIService names. */
    static Pki.Issued adapterCertificate(Pki.Issued ca) {
        return Pki.server(ca, "lagscaler-metrics", List.of("lagscaler-metrics.lagscaler-metrics.svc", "localhost"),
                List.of("127.0.0.1"));
    }

    /** The test ScaledObject: min 1, max 10, pollingInterval 2 s, an HPA that moves at once in both directions. */
    static String fastHpaScaledObject(String bootstrap, String group, String topic) {
        return """
                apiVersion: keda.sh/v1alpha1
                kind: ScaledObject
                metadata: {name: kafka-scaledobject}
                spec:
                  scaleTargetRef: {name: consumer-deployment}
                  pollingInterval: 2
                  minReplicaCount: 1
                  maxReplicaCount: 10
                  advanced:
                    horizontalPodAutoscalerConfig:
                      behavior:
                        scaleUp: {stabilizationWindowSeconds: 0, policies: [{type: Percent, value: 1000, periodSeconds: 1}]}
                        scaleDown: {stabilizationWindowSeconds: 0, policies: [{type: Percent, value: 100, periodSeconds: 1}]}
                  triggers:
                  - type: kafka
                    metadata: {bootstrapServers: "%s", consumerGroup: %s, topic: %s, lagThreshold: "50"}
                """.formatted(bootstrap, group, topic);
    }

    static void apply(LocalControlPlane plane, String ns, String yaml) throws Exception {
        Path file = Files.createTempFile("e2e-", ".yaml");
        try {
            Files.writeString(file, yaml);
            plane.kubectl("-n", ns, "apply", "-f", file.toString());
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
