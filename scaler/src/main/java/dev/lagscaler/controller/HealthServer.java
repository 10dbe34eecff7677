package dev.lagscaler.controller;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.Executors;

/**
 * The operator's probes over plain HTTP (the JDK's server: two fixed answers need no framework). {@code /healthz}:
 * the process and its leader election are alive. {@code /readyz}: it can do its job now (a standby ready to take
 * over, or a leader whose caches have synced). Both answer a small JSON body saying which.
 */
public final class HealthServer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpServer server;

    private HealthServer(HttpServer server) {
        this.server = server;
    }

    public static HealthServer start(String host, int port, Operator operator) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(host, port), 16);
        server.createContext("/healthz", exchange -> answer(exchange, operator.isAlive(), operator));
        server.createContext("/readyz", exchange -> answer(exchange, operator.isReady(), operator));
        server.setExecutor(Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "health-server");
            t.setDaemon(true);
            return t;
        }));
        server.start();
        return new HealthServer(server);
    }

    public int port() {
        return server.getAddress().getPort();
    }

    private static void answer(HttpExchange exchange, boolean ok, Operator operator) throws IOException {
        byte[] body = JSON.writeValueAsBytes(Map.of("status", ok ? "ok" : "unavailable", "leader", operator.isLeader()));
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(ok ? 200 : 503, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
        exchange.close();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
