package dev.lagscaler.testing;

import dev.lagscaler.tls.Pki;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.util.Config;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Kubernetes control plane on loopback: etcd, kube-apiserver (client-cert and token authentication, RBAC,
 * service-account keys, the aggregation layer) and kube-controller-manager (deployment, replicaset, HPA, garbage
 * collector, namespace and service-account controllers). There is no kubelet: Pods stay Pending, but Deployments,
 * ReplicaSets, /scale and the HPA controller work. {@link #close()} and a shutdown hook stop it and delete its files.
 */
public final class LocalControlPlane implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LocalControlPlane.class);
    /** The HPA controller's sync period here: short so tests see it act; production clusters use 15 s. */
    public static final Duration HPA_SYNC_PERIOD = Duration.ofSeconds(2);

    /** Where to keep state, what to apply once it is up, and whether a real node ({@link LocalNode}) joins it. */
    public record Options(Path stateDir, boolean deleteOnClose, Path crdDir, boolean node,
                          List<String> controllerManagerFlags) {
        public Options {
            controllerManagerFlags = List.copyOf(controllerManagerFlags);
        }

        public Options(Path stateDir, boolean deleteOnClose, Path crdDir, boolean node) {
            this(stateDir, deleteOnClose, crdDir, node, List.of());
        }

        public static Options temporary() {
            return new Options(null, true, findCrdDir(), false);
        }

        /** With a real node: the apiserver then listens on the node's address, not loopback. */
        public Options withNode(boolean withNode) {
            return new Options(stateDir, deleteOnClose, crdDir, withNode, controllerManagerFlags);
        }

        /**
         * kube-controller-manager flags after ours (a repeated flag's last value wins): a benchmark's variant, such as
         * its client's request rate ({@code --kube-api-qps}, 20 by default).
         */
        public Options withControllerManagerFlags(List<String> flags) {
            return new Options(stateDir, deleteOnClose, crdDir, node, flags);
        }
    }

    private final Options options;
    private final Path dir;
    private final Path binaries;
    /** The running components by name, in start order, and the command each was started with. */
    private final Map<String, Process> processes = new LinkedHashMap<>();
    private final Map<String, List<String>> commands = new LinkedHashMap<>();
    private final Thread shutdownHook = new Thread(this::stopAll, "control-plane-shutdown");
    private final String adminToken = UUID.randomUUID().toString();
    private int apiPort;
    private Pki.Issued ca;
    private Pki.Issued admin;
    private Duration startupTime = Duration.ZERO;
    private String host = "127.0.0.1";
    private LocalNode node;

    private LocalControlPlane(Options options, Path dir, Path binaries) {
        this.options = options;
        this.dir = dir;
        this.binaries = binaries;
    }

    public static LocalControlPlane start(Options options) throws IOException {
        Path binaries = K8sBinaries.locate();
        Path dir = options.stateDir() == null ? Files.createTempDirectory("lagscaler-k8s-")
                : Files.createDirectories(options.stateDir());
        LocalControlPlane plane = new LocalControlPlane(options, dir, binaries);
        Runtime.getRuntime().addShutdownHook(plane.shutdownHook);
        try {
            plane.startAll();
            return plane;
        } catch (IOException | RuntimeException e) {
            plane.close();
            throw e;
        }
    }

    private void startAll() throws IOException {
        Instant begin = Instant.now();
        Path nodeBinaries = null;
        if (options.node()) {
            nodeBinaries = LocalNode.prepare();
            host = LocalNode.ADDRESS;
        }
        Path pki = Files.createDirectories(dir.resolve("pki"));
        apiPort = ChildProcess.freePort();
        ca = Pki.ca("lagscaler-local-ca");
        ca.write(pki, "ca");
        Pki.server(ca, "kube-apiserver", List.of("localhost", "kubernetes", "kubernetes.default",
                "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"), List.of("127.0.0.1", "10.0.0.1", LocalNode.ADDRESS))
                .write(pki, "apiserver");
        admin = Pki.client(ca, "lagscaler-admin", List.of("system:masters"));
        admin.write(pki, "admin");
        Pki.Issued frontProxyCa = Pki.ca("lagscaler-front-proxy-ca");
        frontProxyCa.write(pki, "front-proxy-ca");
        Pki.client(frontProxyCa, "front-proxy-client", List.of()).write(pki, "front-proxy-client");
        Pki.writeKeyPair(Pki.newKeyPair(), pki, "sa");
        Files.writeString(pki.resolve("tokens.csv"), adminToken + ",lagscaler-token-admin,token-admin-uid,\"system:masters\"\n");

        int etcdPort = ChildProcess.freePort();
        int etcdPeerPort = ChildProcess.freePort();
        launch("etcd", List.of(binaries.resolve("etcd").toString(),
                "--name=default", "--data-dir=" + dir.resolve("etcd"),
                "--listen-client-urls=http://127.0.0.1:" + etcdPort,
                "--advertise-client-urls=http://127.0.0.1:" + etcdPort,
                "--listen-peer-urls=http://127.0.0.1:" + etcdPeerPort,
                "--initial-advertise-peer-urls=http://127.0.0.1:" + etcdPeerPort,
                "--initial-cluster=default=http://127.0.0.1:" + etcdPeerPort,
                "--unsafe-no-fsync=true", "--log-level=warn"));
        ChildProcess.await("etcd listening", Duration.ofSeconds(30), Duration.ofMillis(50),
                () -> alive("etcd") && ChildProcess.portOpen("127.0.0.1", etcdPort));

        List<String> apiserver = new ArrayList<>(List.of(binaries.resolve("kube-apiserver").toString(),
                "--etcd-servers=http://127.0.0.1:" + etcdPort,
                "--bind-address=" + host, "--advertise-address=" + host, "--secure-port=" + apiPort,
                "--cert-dir=" + pki,
                "--tls-cert-file=" + pki.resolve("apiserver.crt"), "--tls-private-key-file=" + pki.resolve("apiserver.key"),
                "--client-ca-file=" + pki.resolve("ca.crt"),
                "--token-auth-file=" + pki.resolve("tokens.csv"),
                "--authorization-mode=RBAC",
                "--service-cluster-ip-range=10.0.0.0/24",
                "--service-account-issuer=https://127.0.0.1:" + apiPort + "/",
                "--service-account-key-file=" + pki.resolve("sa.pub"),
                "--service-account-signing-key-file=" + pki.resolve("sa.key"),
                "--allow-privileged=true",
                "--requestheader-client-ca-file=" + pki.resolve("front-proxy-ca.crt"),
                "--requestheader-allowed-names=front-proxy-client",
                "--requestheader-username-headers=X-Remote-User",
                "--requestheader-group-headers=X-Remote-Group",
                "--requestheader-extra-headers-prefix=X-Remote-Extra-",
                "--proxy-client-cert-file=" + pki.resolve("front-proxy-client.crt"),
                "--proxy-client-key-file=" + pki.resolve("front-proxy-client.key"),
                // No --enable-aggregator-routing: that resolver needs EndpointSlice addresses, which may not be
                // loopback, and it rejects ExternalName services. Without it the aggregator resolves an ExternalName
                // service (externalName: localhost) to https://localhost:<port>, which is how APIServices reach a
                // loopback server here (kube-aggregator remote_available_controller.go, apiserver util/proxy).
                // ShardedListAndWatch (alpha in 1.36): lists and watches take a shardSelector (operator sharding).
                "--feature-gates=ShardedListAndWatch=true",
                // Writes to what the operator scales, for the tests that count writers per object (auditLog()).
                "--audit-policy-file=" + auditPolicy(), "--audit-log-path=" + auditLog(), "--audit-log-format=json",
                "--audit-log-maxsize=200",
                "--v=1"));
        if (options.node()) {
            // Pods reach the apiserver through the kubernetes Service (its endpoint: this address), and the
            // apiserver reaches the kubelet (logs, exec) with the admin certificate.
            apiserver.addAll(List.of("--kubelet-client-certificate=" + pki.resolve("admin.crt"),
                    "--kubelet-client-key=" + pki.resolve("admin.key"),
                    "--kubelet-preferred-address-types=InternalIP"));
        } else {
            // No kubelet mounts tokens and nothing routes to the kubernetes Service.
            apiserver.addAll(List.of("--disable-admission-plugins=ServiceAccount", "--endpoint-reconciler-type=none"));
        }
        launch("kube-apiserver", apiserver);
        writeKubeconfig(kubeconfig());
        HttpClient http = adminHttpClient();
        ChildProcess.await("kube-apiserver /readyz", Duration.ofSeconds(90), Duration.ofMillis(200), () -> {
            if (!alive("kube-apiserver")) {
                throw new IOException("kube-apiserver exited:\n" + ChildProcess.tail(log("kube-apiserver"), 40));
            }
            return http.send(HttpRequest.newBuilder(URI.create(url() + "/readyz")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode() == 200;
        });

        launch("kube-controller-manager", concat(List.of(binaries.resolve("kube-controller-manager").toString(),
                "--kubeconfig=" + kubeconfig(),
                // With a node every default controller runs (Jobs, StatefulSets, EndpointSlices, ...).
                "--controllers=" + (options.node() ? "*" : "deployment-controller,replicaset-controller,"
                        + "horizontal-pod-autoscaler-controller,garbage-collector-controller,namespace-controller,"
                        + "serviceaccount-controller,serviceaccount-token-controller"),
                "--service-account-private-key-file=" + pki.resolve("sa.key"),
                "--root-ca-file=" + pki.resolve("ca.crt"),
                "--use-service-account-credentials=false",
                "--horizontal-pod-autoscaler-sync-period=" + HPA_SYNC_PERIOD.toSeconds() + "s",
                "--leader-elect=false", "--secure-port=0", "--v=1"), options.controllerManagerFlags()));
        applyCrds();
        if (options.node()) {
            node = LocalNode.start(this, nodeBinaries,
                    List.of(nodeBinaries.resolve("pause.tar"), nodeBinaries.resolve("coredns.tar")));
        }
        startupTime = Duration.between(begin, Instant.now());
        LOG.atInfo().addKeyValue("url", url()).addKeyValue("kubeconfig", kubeconfig())
                .addKeyValue("startup_ms", startupTime.toMillis()).log("control plane started");
    }

    private void applyCrds() throws IOException {
        Path crds = options.crdDir();
        if (crds == null || !Files.isDirectory(crds)) {
            return;
        }
        try (var files = Files.list(crds)) {
            if (files.noneMatch(f -> f.toString().endsWith(".yaml"))) {
                return;
            }
        }
        kubectl("apply", "--server-side", "-f", crds.toString());
        kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd", "--all");
        // Established comes a moment before the new resources are served (429 until then): wait until they list.
        ChildProcess.await("custom resources served", Duration.ofSeconds(30), Duration.ofMillis(200), () -> {
            try {
                kubectl("get", "scaledobjects.keda.sh,triggerauthentications.keda.sh,clustertriggerauthentications.keda.sh", "-A");
                return true;
            } catch (IOException e) {
                return false;
            }
        });
    }

    /**
     * Registers {@code v1beta1.external.metrics.k8s.io} for an adapter listening on loopback {@code port} (through an
     * ExternalName Service, see the apiserver flags) and waits until the aggregator reports it Available.
     */
    public void registerExternalMetrics(int port, String caBundlePem) throws IOException {
        Path manifest = Files.createTempFile(dir, "external-metrics-", ".yaml");
        Files.writeString(manifest, """
                apiVersion: v1
                kind: Namespace
                metadata: {name: lagscaler-metrics}
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: lagscaler-metrics, namespace: lagscaler-metrics}
                spec: {type: ExternalName, externalName: localhost, ports: [{port: %d}]}
                ---
                apiVersion: apiregistration.k8s.io/v1
                kind: APIService
                metadata: {name: v1beta1.external.metrics.k8s.io}
                spec:
                  group: external.metrics.k8s.io
                  version: v1beta1
                  groupPriorityMinimum: 100
                  versionPriority: 100
                  service: {namespace: lagscaler-metrics, name: lagscaler-metrics, port: %d}
                  caBundle: %s
                """.formatted(port, port, Base64.getEncoder().encodeToString(caBundlePem.getBytes())));
        kubectl("apply", "-f", manifest.toString());
        Files.delete(manifest);
        awaitExternalMetricsAvailable(Duration.ofSeconds(60));
    }

    /** Waits until the aggregator reports {@code v1beta1.external.metrics.k8s.io} Available (its server answers). */
    public void awaitExternalMetricsAvailable(Duration timeout) throws IOException {
        ChildProcess.await("the external metrics APIService Available", timeout, Duration.ofMillis(300), () -> {
            try {
                return kubectl("get", "apiservice", "v1beta1.external.metrics.k8s.io",
                        "-o", "jsonpath={.status.conditions[?(@.type==\"Available\")].status}").trim().equals("True");
            } catch (IOException notRegisteredYet) {
                return false;
            }
        });
    }

    /**
     * Removes what {@link #registerExternalMetrics} made, so a class that registered an adapter leaves no APIService
     * pointing at a server that is gone (the aggregator would report it unavailable to every later class).
     */
    public void unregisterExternalMetrics() throws IOException {
        kubectl("delete", "apiservice", "v1beta1.external.metrics.k8s.io", "--ignore-not-found");
        // The namespace stays: deleting it races the next registration (it cannot take a Service while terminating).
        kubectl("-n", "lagscaler-metrics", "delete", "service", "lagscaler-metrics", "--ignore-not-found");
    }

    /**
     * Registers the ScaledObject admission webhook listening on loopback {@code port} at {@code path} as the
     * ValidatingWebhookConfiguration {@code name}, for CREATE and UPDATE of scaledobjects in namespaces labelled
     * {@code namespaceLabel=true} only (so other test classes never meet it), failurePolicy Ignore as the chart's.
     */
    public void registerScaledObjectWebhook(String name, int port, String path, String caBundlePem, String namespaceLabel)
            throws IOException {
        registerWebhook(name, port, path, caBundlePem, namespaceLabel, "scaledobjects");
    }

    /** The same for another keda.sh resource ({@code scaledjobs}). */
    public void registerWebhook(String name, int port, String path, String caBundlePem, String namespaceLabel,
                                String resource) throws IOException {
        Path manifest = Files.createTempFile(dir, "webhook-", ".yaml");
        Files.writeString(manifest, """
                apiVersion: admissionregistration.k8s.io/v1
                kind: ValidatingWebhookConfiguration
                metadata: {name: %s}
                webhooks:
                - name: v%s.lagscaler.dev
                  clientConfig:
                    url: https://127.0.0.1:%d%s
                    caBundle: %s
                  rules:
                  - {apiGroups: [keda.sh], apiVersions: [v1alpha1], operations: [CREATE, UPDATE], resources: [%s]}
                  namespaceSelector: {matchLabels: {%s: "true"}}
                  failurePolicy: Ignore
                  sideEffects: None
                  admissionReviewVersions: [v1]
                  timeoutSeconds: 5
                """.formatted(name, resource.substring(0, resource.length() - 1), port, path,
                Base64.getEncoder().encodeToString(caBundlePem.getBytes()), resource, namespaceLabel));
        kubectl("apply", "-f", manifest.toString());
        Files.delete(manifest);
    }

    /** Runs kubectl against this control plane and returns its stdout; fails with its output on a non-zero exit. */
    public String kubectl(String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(binaries.resolve("kubectl").toString(),
                "--kubeconfig=" + kubeconfig()));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes());
        try {
            if (process.waitFor() != 0) {
                throw new IOException("kubectl " + String.join(" ", args) + " failed: " + output);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        return output;
    }

    private void writeKubeconfig(Path path) throws IOException {
        Base64.Encoder b64 = Base64.getEncoder();
        String config = """
                apiVersion: v1
                kind: Config
                clusters:
                - name: lagscaler-local
                  cluster:
                    server: %s
                    certificate-authority-data: %s
                users:
                - name: lagscaler-admin
                  user:
                    client-certificate-data: %s
                    client-key-data: %s
                contexts:
                - name: lagscaler-local
                  context:
                    cluster: lagscaler-local
                    user: lagscaler-admin
                    namespace: default
                current-context: lagscaler-local
                """.formatted(url(), b64.encodeToString(ca.certificatePem().getBytes()),
                b64.encodeToString(admin.certificatePem().getBytes()),
                b64.encodeToString(admin.privateKeyPem().getBytes()));
        Files.writeString(path, config);
    }

    /** An HTTP client that presents the admin certificate and trusts this cluster's CA. */
    public HttpClient adminHttpClient() {
        return HttpClient.newBuilder().sslContext(Pki.sslContext(admin, ca)).connectTimeout(Duration.ofSeconds(5)).build();
    }

    /** A client-java client authenticated as cluster admin. */
    public ApiClient apiClient() throws IOException {
        ApiClient client = Config.fromConfig(kubeconfig().toString());
        client.setReadTimeout(30_000);
        return client;
    }

    /** A client that authenticates with {@code token} only (a ServiceAccount's, from {@code kubectl create token}). */
    public ApiClient apiClient(String token) throws IOException {
        ApiClient client = io.kubernetes.client.util.ClientBuilder.standard(false).setBasePath(url())
                .setCertificateAuthority(ca().certificatePem().getBytes(java.nio.charset.StandardCharsets.UTF_8))
                .setVerifyingSsl(true)
                .setAuthentication(new io.kubernetes.client.util.credentials.AccessTokenAuthentication(token))
                .build();
        client.setReadTimeout(30_000);
        return client;
    }

    public String url() {
        return "https://" + host + ":" + apiPort;
    }

    /** The real node, when {@link Options#node()} asked for one. */
    public LocalNode node() {
        if (node == null) {
            throw new IllegalStateException("this control plane runs without a node (Options.withNode)");
        }
        return node;
    }

    /**
     * The apiserver's audit log (JSON lines, stage ResponseComplete): every write (create, update, patch, delete) to
     * HPAs, to /scale of Deployments and StatefulSets, and to ScaledObjects, ScaledJobs and their status, with the
     * writer's user agent; nothing else.
     */
    public Path auditLog() {
        return dir.resolve("audit.log");
    }

    private Path auditPolicy() throws IOException {
        Path policy = dir.resolve("audit-policy.yaml");
        Files.writeString(policy, """
                apiVersion: audit.k8s.io/v1
                kind: Policy
                omitStages: [RequestReceived, ResponseStarted]
                rules:
                - level: Metadata
                  verbs: [create, update, patch, delete]
                  resources:
                  - {group: autoscaling, resources: [horizontalpodautoscalers]}
                  - {group: apps, resources: [deployments/scale, statefulsets/scale]}
                  - {group: keda.sh, resources: [scaledobjects, scaledobjects/status, scaledjobs, scaledjobs/status]}
                - level: None
                """);
        return policy;
    }

    public Path kubeconfig() {
        return dir.resolve("kubeconfig");
    }

    /** A bearer token authenticated by the apiserver's token file, in group system:masters. */
    public String adminToken() {
        return adminToken;
    }

    public Path directory() {
        return dir;
    }

    public Path binaries() {
        return binaries;
    }

    /** This cluster's CA, which can also sign serving certificates for tests' loopback servers. */
    public Pki.Issued ca() {
        return ca;
    }

    public Duration startupTime() {
        return startupTime;
    }

    private static List<String> concat(List<String> first, List<String> then) {
        List<String> all = new java.util.ArrayList<>(first);
        all.addAll(then);
        return all;
    }

    private void launch(String name, List<String> command) throws IOException {
        commands.put(name, command);
        processes.put(name, ChildProcess.start(command, dir, log(name)));
    }

    private boolean alive(String name) {
        Process p = processes.get(name);
        return p != null && p.isAlive();
    }

    /**
     * Kills one component ({@code etcd}, {@code kube-apiserver} or {@code kube-controller-manager}) with SIGKILL
     * and starts it again with the same flags and data, then waits until the apiserver answers /readyz again.
     * Returns how long the apiserver was unready. For fault tests: clients must reconnect by themselves.
     */
    public Duration restart(String component) throws IOException {
        Process p = processes.get(component);
        if (p == null) {
            throw new IllegalArgumentException("no component " + component + "; one of " + processes.keySet());
        }
        Instant begin = Instant.now();
        p.destroyForcibly();
        try {
            p.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while stopping " + component, e);
        }
        processes.put(component, ChildProcess.start(commands.get(component), dir, log(component)));
        HttpClient http = adminHttpClient();
        ChildProcess.await("kube-apiserver /readyz after restarting " + component, Duration.ofSeconds(90),
                Duration.ofMillis(100), () -> {
                    try {
                        return http.send(HttpRequest.newBuilder(URI.create(url() + "/readyz")).build(),
                                HttpResponse.BodyHandlers.ofString()).statusCode() == 200;
                    } catch (IOException e) {
                        return false;
                    }
                });
        return Duration.between(begin, Instant.now());
    }

    public Path log(String component) {
        return dir.resolve(component + ".log");
    }

    /** The process id of a running component ({@code kube-apiserver}, {@code etcd}, ...), e.g. to read its CPU time. */
    public long pid(String component) {
        Process process = processes.get(component);
        if (process == null) {
            throw new IllegalArgumentException("no running component " + component + "; running: " + processes.keySet());
        }
        return process.pid();
    }

    private void stopAll() {
        if (node != null) {
            node.close();
            node = null;
        }
        List<Process> inStartOrder = new ArrayList<>(processes.values());
        for (int i = inStartOrder.size() - 1; i >= 0; i--) {
            ChildProcess.stop(inStartOrder.get(i), Duration.ofSeconds(10));
        }
        processes.clear();
        if (options.deleteOnClose()) {
            ChildProcess.deleteRecursively(dir);
        }
    }

    @Override
    public void close() {
        stopAll();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException e) {
            // Already shutting down: the hook is running or ran.
        }
    }

    /** The repo's crds/ directory, found like the binaries' build script. */
    static Path findCrdDir() {
        try {
            return DevScripts.repoRoot().resolve("crds").toRealPath();
        } catch (IOException e) {
            return null;
        }
    }
}
