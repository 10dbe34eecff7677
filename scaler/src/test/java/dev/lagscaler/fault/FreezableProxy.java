package dev.lagscaler.fault;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A loopback TCP proxy in front of a real server that can freeze the connections open at a moment: from then on
 * they carry nothing either way (as a half-dead connection behind a broken load balancer), while new connections
 * are forwarded as usual. TLS passes through untouched.
 */
final class FreezableProxy implements AutoCloseable {
    private final ServerSocket server;
    private final List<Link> links = new CopyOnWriteArrayList<>();

    /** One client connection and its upstream. */
    private record Link(Socket client, Socket upstream, AtomicBoolean frozen) {
    }

    FreezableProxy(int upstreamPort) throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(() -> {
            while (!server.isClosed()) {
                try {
                    Socket client = server.accept();
                    Socket upstream = new Socket(InetAddress.getLoopbackAddress(), upstreamPort);
                    Link link = new Link(client, upstream, new AtomicBoolean());
                    links.add(link);
                    pump(client.getInputStream(), upstream.getOutputStream(), link.frozen());
                    pump(upstream.getInputStream(), client.getOutputStream(), link.frozen());
                } catch (IOException e) {
                    // closed
                }
            }
        }, "proxy-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    int port() {
        return server.getLocalPort();
    }

    /** Every connection open now stops carrying bytes, for good; later connections work. */
    void freezeOpenConnections() {
        links.forEach(l -> l.frozen().set(true));
    }

    private static void pump(InputStream in, OutputStream out, AtomicBoolean frozen) {
        Thread t = new Thread(() -> {
            byte[] buffer = new byte[16 * 1024];
            try {
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    if (!frozen.get()) {
                        out.write(buffer, 0, n);
                        out.flush();
                    }
                }
            } catch (IOException e) {
                // one side closed
            }
        }, "proxy-pump");
        t.setDaemon(true);
        t.start();
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Link l : links) {
            l.client().close();
            l.upstream().close();
        }
    }
}
