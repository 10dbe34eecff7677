package dev.lagscaler.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lagscaler.adapter.ExternalMetricsServer;
import dev.lagscaler.adapter.MetricsAdapter;
import dev.lagscaler.controller.AdmissionWebhook;
import dev.lagscaler.controller.Operator;
import dev.lagscaler.controller.OperatorConfig;
import dev.lagscaler.lag.kafka.LagEngine;
import dev.lagscaler.metrics.MetricsFeedServer;
import dev.lagscaler.testing.ChildProcess;
import dev.lagscaler.testing.DevScripts;
import dev.lagscaler.testing.EmbeddedKafka;
import dev.lagscaler.testing.KafkaTestData;
import dev.lagscaler.testing.LocalControlPlane;
import dev.lagscaler.testing.WithControlPlane;
import dev.lagscaler.testing.WithKafka;
import dev.lagscaler.tls.Pki;
import io.kubernetes.client.custom.V1Patch;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.AppsV1Api;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.util.PatchUtils;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * deploy/: the Helm chart rendered and linted by a real Helm (built from its Go module) equals the plain manifests;
 * the manifests apply with server-side apply on the real control plane; the operator and the adapter, run with
 * their ServiceAccounts' tokens (not admin), do their whole job (the RBAC is enough) and are refused what they must
 * not do (it is not too much); each Dockerfile copies one module's classes and runtime jars, no broker, no test kit.
 */
@WithKafka
@WithControlPlane
class DeployTest {
    private static final Pattern COPY = Pattern.compile("(?m)^COPY --from=build /src/(\\S+) (\\S+)$");

    private static String helm() throws Exception {
        return DevScripts.run("helm-binary.sh", Duration.ofMinutes(20));
    }

    private static String run(Path dir, String... command) throws Exception {
        Path log = Files.createTempFile("deploy-test-", ".log");
        try {
            ChildProcess.run(List.of(command), dir, log, Duration.ofMinutes(2));
            return Files.readString(log);
        } finally {
            Files.deleteIfExists(log);
        }
    }

    @Test
    void helmLintsAndRendersTheChartTheManifestsHold() throws Exception {
        Path repo = DevScripts.repoRoot();
        Path chart = repo.resolve("deploy/helm/lagscaler");
        String helm = helm();
        assertTrue(run(repo, helm, "lint", chart.toString()).contains("0 chart(s) failed"));
        String rendered = run(repo, helm, "template", "lagscaler", chart.toString(), "--namespace", "lagscaler",
                "--include-crds", "-f", repo.resolve("deploy/manifests/values.yaml").toString());
        String committed = Files.readString(repo.resolve("deploy/manifests/lagscaler.yaml"));
        assertEquals(committed.substring(committed.indexOf('\n') + 1), rendered,
                "deploy/manifests/lagscaler.yaml is stale: run deploy/manifests/render.sh");
        // Every certificate mode and the optional Prometheus Operator objects render.
        String selfSigned = run(repo, helm, "template", "x", chart.toString(), "-n", "lagscaler");
        assertTrue(selfSigned.contains("caBundle: LS0t") && !selfSigned.contains("insecureSkipTLSVerify"), "self-signed");
        // The feed: mutual TLS by default, both Secrets, the flags on both processes, NetworkPolicies; plaintext only
        // when asked for by name, and an unknown mode refused.
        for (String expected : List.of("name: lagscaler-feed-operator-tls", "name: lagscaler-feed-adapter-tls",
                "--feed-ca=/feed-tls/ca.crt", "--feed-client=lagscaler-metrics-adapter", "kind: NetworkPolicy")) {
            assertTrue(selfSigned.contains(expected), "the default render has " + expected);
        }
        assertEquals(2, selfSigned.split("--feed-cert=/feed-tls/tls.crt", -1).length - 1, "both processes use the feed TLS");
        String plaintext = run(repo, helm, "template", "x", chart.toString(), "--set", "feed.tls.mode=disabled");
        assertFalse(plaintext.contains("--feed-cert") || plaintext.contains("lagscaler-feed-operator-tls"), "disabled");
        assertThrows(Exception.class, () -> run(repo, helm, "template", "x", chart.toString(), "--set", "feed.tls.mode=plain"));
        // Sharded: operator.shards replicas, each --sharded under its pod's name, their Leases listable, and the adapter
        // subscribed to every one of their feeds at once.
        String sharded = run(repo, helm, "template", "x", chart.toString(), "-n", "lagscaler", "--set", "operator.shards=3");
        String statefulSet = sharded.substring(sharded.indexOf("kind: StatefulSet"));
        assertTrue(statefulSet.contains("replicas: 3") && statefulSet.contains("- --sharded")
                && statefulSet.contains("- --identity=$(POD_NAME)") && statefulSet.contains("fieldPath: metadata.name"), statefulSet);
        assertTrue(sharded.contains("lagscaler-operator-2.lagscaler-operator.lagscaler.svc:9090") && sharded.contains("- --feeds-sharded"),
                "the adapter takes all three feeds at once");
        assertTrue(sharded.contains("resources: [leases]\n  verbs: [get, create, update, patch, delete, list]"), "Leases listed");
        assertFalse(selfSigned.contains("--sharded") || selfSigned.contains("--feeds-sharded"), "one leader by default");
        // Secret reads narrowed to listed namespaces: Roles there (and in the release namespace), none cluster-wide.
        String narrowed = run(repo, helm, "template", "x", chart.toString(), "-n", "lagscaler",
                "--set", "operator.secretNamespaces={shop}");
        String clusterRole = narrowed.substring(narrowed.indexOf("kind: ClusterRole\n"));
        clusterRole = clusterRole.substring(0, clusterRole.indexOf("\n---"));
        assertFalse(clusterRole.contains("secrets"), "no cluster-wide Secret read: " + clusterRole);
        assertTrue(narrowed.contains("name: lagscaler-operator-secrets\n  namespace: shop")
                && narrowed.contains("name: lagscaler-operator-secrets\n  namespace: lagscaler"), "Roles in shop and lagscaler");
        assertTrue(run(repo, helm, "template", "x", chart.toString(), "--set", "adapter.tls.mode=secret",
                "--set", "adapter.tls.caBundle=Q0E=").contains("caBundle: Q0E="), "secret");
        String monitored = run(repo, helm, "template", "x", chart.toString(), "--set", "metrics.serviceMonitor.enabled=true",
                "--set", "metrics.prometheusRule.enabled=true");
        assertTrue(monitored.contains("kind: ServiceMonitor") && monitored.contains("LagscalerNoLeader"), "monitors");
        // No wildcard in any RBAC rule; Secrets are only ever read by name.
        for (String line : committed.split("\n")) {
            if (line.matches("\\s*-?\\s*(apiGroups|resources|verbs):.*")) {
                assertFalse(line.contains("*"), "a wildcard in an RBAC rule: " + line);
            }
        }
        Matcher secrets = Pattern.compile("resources: \\[secrets, configmaps\\]\\n\\s+verbs: \\[(.*)\\]").matcher(committed);
        assertTrue(secrets.find() && secrets.group(1).equals("get"), "Secrets: get only");
    }

    /**
     * The feed certificates the chart makes at install (self-signed mode) connect the adapter to the operator with
     * this code: the adapter dials the exact --feed name the chart renders (resolved to loopback through Vert.x's
     * hosts option), checks the operator's wildcard name, and is admitted by its client name.
     */
    @Test
    void theChartsFeedCertificatesConnectTheAdapterToTheOperator() throws Exception {
        Path repo = DevScripts.repoRoot();
        String rendered = run(repo, helm(), "template", "x", repo.resolve("deploy/helm/lagscaler").toString(), "-n", "lagscaler");
        Path dir = Files.createTempDirectory("chart-feed-tls-");
        Map<String, Path> files = new java.util.HashMap<>();
        com.fasterxml.jackson.databind.ObjectMapper yaml = new com.fasterxml.jackson.databind.ObjectMapper(
                new com.fasterxml.jackson.dataformat.yaml.YAMLFactory());
        String feedArg = null;
        for (String doc : rendered.split("\n---\n")) {
            com.fasterxml.jackson.databind.JsonNode node = yaml.readTree(doc);
            if (node == null) {
                continue;
            }
            String name = node.path("metadata").path("name").asText();
            if (node.path("kind").asText().equals("Secret") && name.startsWith("lagscaler-feed-")) {
                for (String key : List.of("tls.crt", "tls.key", "ca.crt")) {
                    Path file = dir.resolve(name + "-" + key);
                    Files.write(file, java.util.Base64.getDecoder().decode(node.path("data").path(key).asText()));
                    files.put(name + "/" + key, file);
                }
            }
            for (com.fasterxml.jackson.databind.JsonNode arg : node.path("spec").path("template").path("spec")
                    .path("containers").path(0).path("args")) {
                if (arg.asText().startsWith("--feed=")) {
                    feedArg = arg.asText().substring("--feed=".length()).split(",")[0];
                }
            }
        }
        String host = feedArg.substring(0, feedArg.lastIndexOf(':'));
        dev.lagscaler.feed.FeedTls operatorTls = new dev.lagscaler.feed.FeedTls(files.get("lagscaler-feed-operator-tls/tls.crt"),
                files.get("lagscaler-feed-operator-tls/tls.key"), files.get("lagscaler-feed-operator-tls/ca.crt"),
                "lagscaler-metrics-adapter");
        dev.lagscaler.feed.FeedTls adapterTls = new dev.lagscaler.feed.FeedTls(files.get("lagscaler-feed-adapter-tls/tls.crt"),
                files.get("lagscaler-feed-adapter-tls/tls.key"), files.get("lagscaler-feed-adapter-tls/ca.crt"), null);
        io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx(new io.vertx.core.VertxOptions().setAddressResolverOptions(
                new io.vertx.core.dns.AddressResolverOptions().setHostsValue(
                        io.vertx.core.buffer.Buffer.buffer("127.0.0.1 " + host + "\n"))));
        dev.lagscaler.adapter.MetricStore store = new dev.lagscaler.adapter.MetricStore();
        try (MetricsFeedServer feed = MetricsFeedServer.start("127.0.0.1", 0, MetricsFeedServer.DEFAULT_MAX_SUBSCRIBERS,
                MetricsFeedServer.DEFAULT_STUCK_AFTER, operatorTls);
             dev.lagscaler.adapter.FeedSubscriber subscriber = new dev.lagscaler.adapter.FeedSubscriber(vertx,
                     List.of(io.vertx.core.net.SocketAddress.inetSocketAddress(feed.port(), host)), store, "chart-adapter",
                     () -> { }, adapterTls)) {
            feed.leading(true);
            feed.publish(MetricsFeedTest.value("s0-kafka-chart", 4000));
            subscriber.start();
            ChildProcess.await("the adapter fed by " + host + " with the chart's certificates", Duration.ofSeconds(20),
                    Duration.ofMillis(20), () -> MetricsFeedTest.milli(store, "s0-kafka-chart") == 4000);
        } finally {
            vertx.close().await();
        }
    }

    @Test
    void imagesCopyOneModuleAndNeitherBrokerNorTestKit() throws Exception {
        Path repo = DevScripts.repoRoot();
        for (String[] image : List.of(new String[] {"operator", "scaler", "kafka-clients-"},
                new String[] {"adapter", "metrics-adapter", "vertx-core-"})) {
            String dockerfile = Files.readString(repo.resolve("deploy/" + image[0] + ".Dockerfile"));
            assertTrue(dockerfile.contains("ARG RUNTIME_IMAGE=eclipse-temurin:17-jre") && dockerfile.contains("USER 10001"),
                    image[0] + ": JRE 17, non-root");
            Matcher m = COPY.matcher(dockerfile);
            List<String> copied = new ArrayList<>();
            while (m.find()) {
                assertTrue(m.group(1).startsWith(image[1] + "/target/"), image[0] + " copies another module: " + m.group(1));
                File[] files = repo.resolve(m.group(1)).toFile().listFiles();
                assertTrue(files != null && files.length > 0, m.group(1) + " is built by ./mvnw test (process-classes)");
                for (File f : files) {
                    copied.add(f.getName());
                }
            }
            assertTrue(copied.stream().anyMatch(n -> n.startsWith(image[2])), image[0] + " lacks " + image[2] + ": " + copied);
            if (image[0].equals("adapter")) {
                assertFalse(copied.stream().anyMatch(n -> n.startsWith("kafka-clients-")), "the adapter never talks to Kafka");
            }
            for (String name : copied) {
                for (String banned : List.of("kafka_2.13", "kafka-server", "kafka-storage", "kafka-metadata", "lagscaler-testkit",
                        "lagscaler-cli", "junit", "testcontainers", "kerb-", "archunit", "jazzer")) {
                    assertFalse(name.startsWith(banned), image[0] + " image would carry " + name);
                }
            }
        }
    }

    @Test
    void manifestsApplyAndTheServiceAccountsAreEnoughAndNoMore(EmbeddedKafka kafka, LocalControlPlane plane) throws Exception {
        Path repo = DevScripts.repoRoot();
        plane.kubectl("apply", "--server-side", "-f", repo.resolve("deploy/manifests/namespace.yaml").toString());
        // cert-manager's kinds, so the Certificate and Issuers of the manifests apply (cert-manager itself is not run).
        Path certManager = Files.createTempFile(plane.directory(), "cert-manager-crds-", ".yaml");
        Files.writeString(certManager, certManagerCrd("certificates", "Certificate") + "---\n" + certManagerCrd("issuers", "Issuer"));
        plane.kubectl("apply", "--server-side", "-f", certManager.toString());
        ChildProcess.await("cert-manager kinds served", Duration.ofSeconds(30), Duration.ofMillis(300),
                () -> plane.kubectl("api-resources", "--api-group=cert-manager.io").contains("Certificate"));
        String applied = plane.kubectl("apply", "--server-side", "--force-conflicts",
                "-f", repo.resolve("deploy/manifests/lagscaler.yaml").toString());
        assertTrue(applied.contains("statefulset.apps/lagscaler-operator serverside-applied"), applied);
        // The test runs the adapter itself and registers it below in place of the manifests' APIService; the same for
        // the admission webhook (its Service has no pods here).
        plane.kubectl("delete", "apiservice", "v1beta1.external.metrics.k8s.io", "--ignore-not-found");
        assertTrue(applied.contains("validatingwebhookconfiguration.admissionregistration.k8s.io/lagscaler-scaledobjects"),
                applied);
        plane.kubectl("delete", "validatingwebhookconfiguration", "lagscaler-scaledobjects");

        ApiClient operatorClient = plane.apiClient(plane.kubectl("-n", "lagscaler", "create", "token", "lagscaler-operator").trim());
        operatorClient.setReadTimeout(0);
        ApiClient adapterClient = plane.apiClient(plane.kubectl("-n", "lagscaler", "create", "token",
                "lagscaler-metrics-adapter").trim());

        String ns = "rbac";
        String topic = "rbac-events";
        ExternalMetricsEndToEndTest.consumerAndTopic(plane, kafka, ns, topic, "rbac-group", 4);
        plane.kubectl("-n", ns, "scale", "deployment", "consumer-deployment", "--replicas=0");
        Pki.Issued ca = Pki.ca("rbac-adapter-ca");
        Pki.Issued serving = ExternalMetricsEndToEndTest.adapterCertificate(ca);
        try (MetricsFeedServer feed = MetricsFeedServer.start("127.0.0.1", 0);
             LagEngine engine = new LagEngine(LagEngine.Options.defaults());
             Operator operator = new Operator(operatorClient, engine, OperatorConfig.defaults("rbac-operator")
                     .withNamespace("lagscaler").withFastActivationInterval(Duration.ofMillis(500)), feed);
             MetricsAdapter adapter = MetricsAdapter.start(adapterClient, "127.0.0.1", feed.port(),
                     new ExternalMetricsServer.Options("127.0.0.1", 0, serving.certificatePem(), serving.privateKeyPem()))) {
            operator.start();
            plane.registerExternalMetrics(adapter.port(), ca.certificatePem());
            try {
                ExternalMetricsEndToEndTest.apply(plane, ns, """
                        apiVersion: keda.sh/v1alpha1
                        kind: ScaledObject
                        metadata: {name: kafka-scaledobject}
                        spec:
                          scaleTargetRef: {name: consumer-deployment}
                          pollingInterval: 2
                          maxReplicaCount: 4
                          triggers:
                          - type: kafka
                            metadata: {bootstrapServers: "%s", consumerGroup: rbac-group, topic: %s, lagThreshold: "5"}
                        """.formatted(kafka.bootstrapServers(), topic));
                KafkaTestData.produce(kafka.bootstrapServers(), topic, 0, 30);
                // The operator's whole job with its own token: Lease, informers, /scale, HPA, status, Events.
                ChildProcess.await("activated by the operator's ServiceAccount", Duration.ofSeconds(90), Duration.ofMillis(300),
                        () -> ExternalMetricsEndToEndTest.replicas(plane, ns) >= 1);
                ChildProcess.await("its HPA and status written", Duration.ofSeconds(60), Duration.ofMillis(300),
                        () -> plane.kubectl("-n", ns, "get", "hpa", "-o", "name").contains("keda-hpa-kafka-scaledobject")
                                && plane.kubectl("-n", ns, "get", "scaledobject", "kafka-scaledobject",
                                "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}").equals("True"));
                ChildProcess.await("an Event recorded", Duration.ofSeconds(30), Duration.ofMillis(300),
                        () -> plane.kubectl("-n", ns, "get", "events", "-o", "jsonpath={.items[*].involvedObject.name}")
                                .contains("kafka-scaledobject"));
                // The adapter's whole job with its token: TokenReview/SubjectAccessReview for the aggregator's calls.
                ChildProcess.await("the adapter serves through the aggregator", Duration.ofSeconds(60), Duration.ofMillis(500),
                        () -> plane.kubectl("get", "--raw", "/apis/external.metrics.k8s.io/v1beta1/namespaces/" + ns
                                + "/s0-kafka-rbac-events?labelSelector=scaledobject.keda.sh%2Fname%3Dkafka-scaledobject")
                                .contains("\"metricName\":\"s0-kafka-rbac-events\""));
                // The admission webhook's reads with the operator's token: HPAs, ScaledObjects, the target's containers,
                // LimitRanges. A cpu trigger on a container without a cpu request is refused.
                plane.kubectl("label", "namespace", ns, "lagscaler-rbac-webhook=true");
                plane.kubectl("-n", ns, "create", "deployment", "cpu-target", "--image=consumer:1.0", "--replicas=0");
                Path webhookTls = Files.createTempDirectory(plane.directory(), "webhook-tls-");
                Pki.Issued webhookServing = Pki.server(ca, "localhost", List.of("localhost"), List.of("127.0.0.1"));
                Files.writeString(webhookTls.resolve("tls.crt"), webhookServing.certificatePem());
                Files.writeString(webhookTls.resolve("tls.key"), webhookServing.privateKeyPem());
                try (AdmissionWebhook webhook = AdmissionWebhook.start("127.0.0.1", 0, webhookTls.resolve("tls.crt"),
                        webhookTls.resolve("tls.key"), operatorClient)) {
                    plane.registerScaledObjectWebhook("lagscaler-rbac-webhook", webhook.port(), AdmissionWebhook.PATH,
                            ca.certificatePem(), "lagscaler-rbac-webhook");
                    IOException refused = assertThrows(IOException.class, () -> ExternalMetricsEndToEndTest.apply(plane, ns, """
                            apiVersion: keda.sh/v1alpha1
                            kind: ScaledObject
                            metadata: {name: cpu-check}
                            spec:
                              scaleTargetRef: {name: cpu-target}
                              minReplicaCount: 1
                              triggers:
                              - {type: cpu, metricType: Utilization, metadata: {value: "60"}}
                            """));
                    assertTrue(refused.getMessage().contains("doesn't have the cpu request defined"), refused.getMessage());
                } finally {
                    plane.kubectl("delete", "validatingwebhookconfiguration", "lagscaler-rbac-webhook", "--ignore-not-found");
                }
                // And no more: no listing Secrets, no writing a Deployment outside /scale.
                ApiException list = assertThrows(ApiException.class,
                        () -> new CoreV1Api(operatorClient).listNamespacedSecret(ns).execute());
                assertEquals(403, list.getCode());
                ApiException patch = assertThrows(ApiException.class, () -> PatchUtils.patch(Object.class,
                        () -> new AppsV1Api(operatorClient).patchNamespacedDeployment("consumer-deployment", ns,
                                new V1Patch("{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"consumer\","
                                        + "\"image\":\"evil:1\"}]}}}}")).buildCall(null),
                        V1Patch.PATCH_FORMAT_STRATEGIC_MERGE_PATCH, operatorClient));
                assertEquals(403, patch.getCode());
                ApiException adapterSecrets = assertThrows(ApiException.class,
                        () -> new CoreV1Api(adapterClient).listSecretForAllNamespaces().execute());
                assertEquals(403, adapterSecrets.getCode());
                ApiException adapterScale = assertThrows(ApiException.class,
                        () -> new AppsV1Api(adapterClient).readNamespacedDeploymentScale("consumer-deployment", ns).execute());
                assertEquals(403, adapterScale.getCode());
            } finally {
                plane.unregisterExternalMetrics();
            }
        }
    }

    private static String certManagerCrd(String plural, String kind) {
        return """
                apiVersion: apiextensions.k8s.io/v1
                kind: CustomResourceDefinition
                metadata: {name: %1$s.cert-manager.io}
                spec:
                  group: cert-manager.io
                  names: {kind: %2$s, plural: %1$s}
                  scope: Namespaced
                  versions:
                  - name: v1
                    served: true
                    storage: true
                    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
                """.formatted(plural, kind);
    }
}
