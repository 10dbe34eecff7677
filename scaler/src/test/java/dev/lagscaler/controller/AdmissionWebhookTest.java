package dev.lagscaler.controller;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lagscaler.testing.EmbeddedKafka;
import dev.lagscaler.testing.LocalControlPlane;
import dev.lagscaler.testing.WithControlPlane;
import dev.lagscaler.testing.WithKafka;
import dev.lagscaler.tls.Pki;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The admission webhook behind a real ValidatingWebhookConfiguration on the real apiserver: kubectl apply is refused
 * with KEDA's messages, and an outage of the webhook blocks nothing (failurePolicy Ignore). The configuration selects
 * only this test's namespaces.
 */
@WithKafka
@WithControlPlane
class AdmissionWebhookTest {
    private static final String SELECTOR = "lagscaler-webhook-test";
    private static AdmissionWebhook webhook;
    private static Path certificates;
    private final EmbeddedKafka kafka;
    private final LocalControlPlane plane;
    private final OperatorTestSupport support;

    AdmissionWebhookTest(EmbeddedKafka kafka, LocalControlPlane plane) {
        this.kafka = kafka;
        this.plane = plane;
        this.support = new OperatorTestSupport(plane);
    }

    @BeforeAll
    static void registerTheWebhook(LocalControlPlane plane) throws Exception {
        Pki.Issued ca = Pki.ca("webhook-test-ca");
        Pki.Issued serving = Pki.server(ca, "localhost", List.of("localhost"), List.of("127.0.0.1"));
        certificates = Files.createTempDirectory("webhook-");
        Files.writeString(certificates.resolve("tls.crt"), serving.certificatePem());
        Files.writeString(certificates.resolve("tls.key"), serving.privateKeyPem());
        webhook = start(plane, 0);
        plane.registerScaledObjectWebhook("lagscaler-test-scaledobjects", webhook.port(), AdmissionWebhook.PATH,
                ca.certificatePem(), SELECTOR);
        plane.registerWebhook("lagscaler-test-scaledjobs", webhook.port(), AdmissionWebhook.JOB_PATH,
                ca.certificatePem(), SELECTOR, "scaledjobs");
    }

    private static AdmissionWebhook start(LocalControlPlane plane, int port) throws Exception {
        return AdmissionWebhook.start("127.0.0.1", port, certificates.resolve("tls.crt"), certificates.resolve("tls.key"),
                plane.apiClient());
    }

    @AfterAll
    static void unregister(LocalControlPlane plane) throws IOException {
        plane.kubectl("delete", "validatingwebhookconfiguration", "lagscaler-test-scaledobjects",
                "lagscaler-test-scaledjobs", "--ignore-not-found");
        if (webhook != null) {
            webhook.close();
        }
    }

    private String namespace(String name, String topic) throws Exception {
        support.setUp(name, kafka.bootstrapServers(), topic, 1);
        plane.kubectl("label", "namespace", name, SELECTOR + "=true");
        return name;
    }

    private String seed(String topic, String extraSpec, String annotations) {
        return OperatorTestSupport.seed(kafka.bootstrapServers(), topic, extraSpec, annotations);
    }

    /** kubectl apply is refused, saying {@code message}. */
    private void refused(String namespace, String yaml, String message) {
        IOException e = assertThrows(IOException.class, () -> support.apply(namespace, yaml));
        assertTrue(e.getMessage().contains("admission webhook \"vscaledobject.lagscaler.dev\" denied the request: " + message),
                e.getMessage());
    }

    @Test
    void aSecondScaledObjectOnOneTargetIsRefused() throws Exception {
        String ns = namespace("webhook-second", "webhook-second-events");
        support.apply(ns, seed("webhook-second-events", "", ""));
        refused(ns, seed("webhook-second-events", "", "").replace("name: kafka-scaledobject", "name: second"),
                "the workload 'consumer-deployment' of type 'apps/v1.Deployment' is already managed by the ScaledObject"
                        + " 'kafka-scaledobject'");
        support.apply(ns, seed("webhook-second-events", "maxReplicaCount: 7", "")); // an update of the first is fine
    }

    @Test
    void aTargetScaledByAnotherHpaIsRefusedUnlessTransferIsAsked() throws Exception {
        String ns = namespace("webhook-hpa", "webhook-hpa-events");
        plane.kubectl("-n", ns, "autoscale", "deployment", "consumer-deployment", "--name=my-hpa", "--max=4", "--cpu=80%");
        refused(ns, seed("webhook-hpa-events", "", ""), "the workload 'consumer-deployment' of type 'apps/v1.Deployment'"
                + " is already managed by the hpa 'my-hpa'");
        refused(ns, seed("webhook-hpa-events", "advanced:\n  horizontalPodAutoscalerConfig:\n    name: my-hpa", ""),
                "the HPA 'my-hpa' already exists and is not owned by this ScaledObject");
        support.apply(ns, seed("webhook-hpa-events", "advanced:\n  horizontalPodAutoscalerConfig:\n    name: my-hpa",
                "scaledobject.keda.sh/transfer-hpa-ownership: \"true\""));
    }

    @Test
    void cpuWithoutRequestsIsRefusedUnlessALimitRangeDefaultsIt() throws Exception {
        String ns = namespace("webhook-cpu", "webhook-cpu-events");
        String cpu = seed("webhook-cpu-events", "minReplicaCount: 1", "")
                + "  - type: cpu\n    metricType: Utilization\n    metadata: {value: \"60\"}\n";
        refused(ns, cpu, "the scaledobject has a cpu trigger but the container consumer doesn't have the cpu request defined");
        support.apply(ns, """
                apiVersion: v1
                kind: LimitRange
                metadata: {name: defaults}
                spec:
                  limits: [{type: Container, defaultRequest: {cpu: 100m}}]
                """);
        support.apply(ns, cpu);
    }

    @Test
    void kedasOtherChecksRefuseAtApply() throws Exception {
        String ns = namespace("webhook-checks", "webhook-checks-events");
        String longName = "a".repeat(64);
        refused(ns, seed("webhook-checks-events", "", "").replace("name: kafka-scaledobject", "name: " + longName),
                "the ScaledObject name '" + longName + "' is longer than 63 characters");
        String two = seed("webhook-checks-events", "", "");
        String trigger = two.substring(two.indexOf("  - type: kafka"));
        refused(ns, two.replace(trigger, (trigger + trigger).replace("  - type: kafka\n", "  - type: kafka\n    name: lag\n")),
                "triggerName \"lag\" is defined multiple times in the ScaledObject/ScaledJob, but it must be unique");
        refused(ns, seed("webhook-checks-events", "advanced:\n  scalingModifiers: {formula: \"lag +\", target: \"5\"}", "")
                .replace("  - type: kafka\n", "  - type: kafka\n    name: lag\n"), "scalingModifiers.formula \"lag +\" does not compile");
    }

    @Test
    void anOutageBlocksNothing() throws Exception {
        String ns = namespace("webhook-down", "webhook-down-events");
        support.apply(ns, seed("webhook-down-events", "", ""));
        int port = webhook.port();
        webhook.close();
        try {
            // The second object would be refused; with the webhook down the apiserver admits it (failurePolicy Ignore)
            // and the controller-side check of KedaCutoverTest keeps it from acting.
            support.apply(ns, seed("webhook-down-events", "", "").replace("name: kafka-scaledobject", "name: second"));
        } finally {
            webhook = start(plane, port); // back for the other tests of the class, on the port the configuration names
        }
    }

    @Test
    void aScaledJobThatDoesNotParseIsRefused() throws Exception {
        String ns = namespace("webhook-jobs", "webhook-jobs-events");
        String job = """
                apiVersion: keda.sh/v1alpha1
                kind: ScaledJob
                metadata: {name: batches}
                spec:
                  jobTargetRef: {template: {spec: {containers: [{name: w, image: "w:1"}], restartPolicy: Never}}}
                  triggers:
                  - {type: kafka, name: lag, metadata: {bootstrapServers: "%1$s", consumerGroup: g, topic: t}}
                  - {type: kafka, name: %2$s, metadata: {bootstrapServers: "%1$s", consumerGroup: g, topic: t}}
                """;
        IOException e = assertThrows(IOException.class, () -> support.apply(ns, job.formatted(kafka.bootstrapServers(), "lag")));
        assertTrue(e.getMessage().contains("admission webhook \"vscaledjob.lagscaler.dev\" denied the request: triggerName"
                + " \"lag\" is defined multiple times"), e.getMessage());
        support.apply(ns, job.formatted(kafka.bootstrapServers(), "lag-two"));
    }
}
