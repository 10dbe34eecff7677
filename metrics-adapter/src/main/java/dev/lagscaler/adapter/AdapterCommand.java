package dev.lagscaler.adapter;

import dev.lagscaler.feed.FeedTls;
import dev.lagscaler.tls.Pki;
import io.kubernetes.client.openapi.ApiClient;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.kubernetes.client.util.Config;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import io.vertx.core.net.SocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The adapter process's entry point ({@code main}, what the adapter image runs) and {@code lagscaler adapter}.
 * Exit codes: 0 stopped, 1 failed, 2 bad flags.
 */
@Command(name = "adapter", mixinStandardHelpOptions = true,
        description = {"Serves external.metrics.k8s.io/v1beta1 over TLS from the values the operator's feed streams.",
                "",
                "Example:  adapter --port 6443 --feed lagscaler-operator:9090 --cert tls.crt --key tls.key"},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:stopped", "1:failed", "2:bad flags"})
public final class AdapterCommand implements Callable<Integer> {
    static final int EXIT_BAD_INPUT = 2;

    @Option(names = "--port", defaultValue = "6443", description = "HTTPS port (default ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--bind-address", defaultValue = "0.0.0.0", description = "Address to listen on (default ${DEFAULT-VALUE}).")
    String bindAddress;

    @Option(names = "--feed", defaultValue = "127.0.0.1:9090",
            description = "host:port of the operator's metrics feed, or several separated by commas (each operator"
                    + " replica): the adapter follows whichever leads (default ${DEFAULT-VALUE}).")
    String feed;

    @Option(names = "--feeds-sharded", description = "The --feed operators run --sharded: subscribe to every one of them"
            + " at once and answer from all (each serves its own objects' values).")
    boolean feedsSharded;

    @Option(names = "--cert", description = "PEM serving certificate. Without --cert and --key a self-signed one is made"
            + " (development only: the APIService then needs insecureSkipTLSVerify).")
    Path cert;

    @Option(names = "--key", description = "PEM private key of --cert.")
    Path key;

    @Option(names = "--feed-cert", description = "PEM client certificate for the feed's mutual TLS (with --feed-key and"
            + " --feed-ca; without them the feed is plaintext: local runs only). Reloaded when the file changes.")
    Path feedCert;

    @Option(names = "--feed-key", description = "PEM private key of --feed-cert.")
    Path feedKey;

    @Option(names = "--feed-ca", description = "PEM CA the operators' feed certificates are checked against; each"
            + " --feed host name must be in its operator's certificate.")
    Path feedCa;

    @Option(names = "--metrics-address", defaultValue = "0.0.0.0:8080",
            description = "host:port of the Prometheus /metrics endpoint (plain HTTP), or 'off' (default ${DEFAULT-VALUE}).")
    String metricsAddress;

    @Option(names = "--kubeconfig", description = "Kubeconfig file (default: in-cluster, then ~/.kube/config).")
    String kubeconfig;

    @Spec
    CommandLine.Model.CommandSpec spec;

    /** picocli's defaults: usage errors print the message and usage on stderr and exit 2, like our other bad input. */
    public static void main(String[] args) {
        System.exit(new CommandLine(new AdapterCommand()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        List<SocketAddress> feeds = new ArrayList<>();
        for (String address : feed.split(",")) {
            int colon = address.trim().lastIndexOf(':');
            if (colon <= 0 || !address.trim().substring(colon + 1).matches("\\d{1,5}")) {
                err.println("lagscaler adapter: --feed takes host:port[,host:port...], got \"" + feed + "\"");
                return EXIT_BAD_INPUT;
            }
            feeds.add(SocketAddress.inetSocketAddress(Integer.parseInt(address.trim().substring(colon + 1)),
                    address.trim().substring(0, colon)));
        }
        FeedTls feedTls;
        try {
            feedTls = FeedTls.fromFlags(feedCert, feedKey, feedCa, null);
        } catch (IllegalArgumentException e) {
            err.println("lagscaler adapter: " + e.getMessage());
            return EXIT_BAD_INPUT;
        }
        if ((cert == null) != (key == null)) {
            err.println("lagscaler adapter: --cert and --key go together");
            return EXIT_BAD_INPUT;
        }
        String certPem;
        String keyPem;
        if (cert != null) {
            try {
                certPem = Files.readString(cert);
                keyPem = Files.readString(key);
            } catch (IOException e) {
                err.println("lagscaler adapter: cannot read --cert/--key: " + e.getMessage());
                return EXIT_BAD_INPUT;
            }
        } else {
            Pki.Issued ca = Pki.ca("lagscaler-metrics-adapter-self-signed");
            Pki.Issued serving = Pki.server(ca, "lagscaler-metrics-adapter",
                    List.of("localhost", "lagscaler-metrics-adapter.lagscaler.svc"), List.of("127.0.0.1"));
            certPem = serving.certificatePem();
            keyPem = serving.privateKeyPem();
        }
        int metricsColon = metricsAddress.lastIndexOf(':');
        if (!metricsAddress.equals("off") && (metricsColon <= 0 || !metricsAddress.substring(metricsColon + 1).matches("\\d{1,5}"))) {
            err.println("lagscaler adapter: --metrics-address takes host:port or off, got \"" + metricsAddress + "\"");
            return EXIT_BAD_INPUT;
        }
        PrometheusRegistry registry = new PrometheusRegistry();
        JvmMetrics.builder().register(registry);
        HTTPServer metricsServer = metricsAddress.equals("off") ? null : HTTPServer.builder()
                .hostname(metricsAddress.substring(0, metricsColon))
                .port(Integer.parseInt(metricsAddress.substring(metricsColon + 1))).registry(registry).buildAndStart();
        ApiClient client = kubeconfig == null ? Config.defaultClient() : Config.fromConfig(kubeconfig);
        MetricsAdapter adapter = MetricsAdapter.start(client, feeds,
                new ExternalMetricsServer.Options(bindAddress, port, certPem, keyPem, cert, key), new AdapterMetrics(registry),
                feedTls, feedsSharded);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (metricsServer != null) {
                metricsServer.close();
            }
            adapter.close();
            stopped.countDown();
        }));
        stopped.await();
        return 0;
    }
}
