package dev.lagscaler.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The chart ({@code deploy/helm/lagscaler}) installed by a real Helm into a control plane with a {@link LocalNode},
 * from the images {@code dev/images.sh} builds: what the node test and {@code lagscaler demo --node} run.
 */
public final class ChartRelease implements AutoCloseable {
    public static final String NAMESPACE = "lagscaler";
    public static final String NAME = "lagscaler";

    private final LocalControlPlane plane;
    private final String helm;
    private final Duration installToReady;
    private boolean installed = true;

    private ChartRelease(LocalControlPlane plane, String helm, Duration installToReady) {
        this.plane = plane;
        this.helm = helm;
        this.installToReady = installToReady;
    }

    /**
     * Loads the images into the node, then {@code helm install} with the chart's defaults (plus {@code setValues},
     * each {@code key=value}) and waits until every pod of the release is Ready and the external metrics APIService
     * is Available through the adapter pods.
     */
    public static ChartRelease install(LocalControlPlane plane, String... setValues) throws IOException {
        plane.node().importImages(Images.build());
        String helm = DevScripts.run("helm-binary.sh", Duration.ofMinutes(20));
        Path chart = DevScripts.repoRoot().resolve("deploy/helm/lagscaler");
        List<String> args = new ArrayList<>(List.of("install", NAME, chart.toString(), "-n", NAMESPACE,
                "--create-namespace", "--wait", "--timeout", "5m"));
        for (String value : setValues) {
            args.addAll(List.of("--set", value));
        }
        Instant begin = Instant.now();
        helm(plane, helm, args);
        plane.kubectl("-n", NAMESPACE, "wait", "--for=condition=Ready", "pod", "--all", "--timeout=180s");
        plane.awaitExternalMetricsAvailable(Duration.ofSeconds(120)); // through the adapter pods
        return new ChartRelease(plane, helm, Duration.between(begin, Instant.now()));
    }

    /** From {@code helm install} until every pod Ready and the APIService Available. */
    public Duration installToReady() {
        return installToReady;
    }

    /** {@code helm uninstall --wait}. */
    public void uninstall() throws IOException {
        if (installed) {
            helm(plane, helm, List.of("uninstall", NAME, "-n", NAMESPACE, "--wait", "--timeout", "3m"));
            installed = false;
        }
    }

    /**
     * A Deployment at zero of the demo's consumer image ({@code deploy/consumer.Dockerfile}): each pod a member of
     * {@code group} processing {@code recordsPerSecond}, restricted like the chart's pods, labelled {@code app=<name>}.
     */
    public static String consumerDeployment(String name, String bootstrap, String group, String topic, int recordsPerSecond) {
        return """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: %1$s}
                spec:
                  replicas: 0
                  selector: {matchLabels: {app: %1$s}}
                  template:
                    metadata: {labels: {app: %1$s}}
                    spec:
                      terminationGracePeriodSeconds: 10
                      securityContext: {runAsNonRoot: true, runAsUser: 10001, seccompProfile: {type: RuntimeDefault}}
                      containers:
                      - name: consumer
                        image: %2$s
                        imagePullPolicy: IfNotPresent
                        env:
                        - {name: KAFKA_BOOTSTRAP, value: "%3$s"}
                        - {name: KAFKA_GROUP, value: "%4$s"}
                        - {name: KAFKA_TOPIC, value: "%5$s"}
                        - {name: RECORDS_PER_SECOND, value: "%6$d"}
                        resources: {requests: {cpu: 10m, memory: 96Mi}, limits: {memory: 256Mi}}
                        securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
                """.formatted(name, Images.CONSUMER, bootstrap, group, topic, recordsPerSecond);
    }

    private static void helm(LocalControlPlane plane, String helm, List<String> args) throws IOException {
        List<String> command = new ArrayList<>(List.of(helm, "--kubeconfig", plane.kubeconfig().toString()));
        command.addAll(args);
        Path log = Files.createTempFile(plane.directory(), "helm-", ".log");
        try {
            ChildProcess.run(command, plane.directory(), log, Duration.ofMinutes(6));
        } finally {
            Files.deleteIfExists(log);
        }
    }

    /** Uninstalls if still installed. */
    @Override
    public void close() throws IOException {
        uninstall();
    }
}
