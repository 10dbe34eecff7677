package dev.lagscaler.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.kerby.kerberos.kerb.KrbException;
import org.apache.kerby.kerberos.kerb.server.SimpleKdcServer;

/**
 * A real Kerberos KDC in this JVM (Apache Kerby's {@code SimpleKdcServer}, TCP on a free loopback port), for
 * GSSAPI tests: principals with passwords or exported to keytabs, and the krb5.conf clients and brokers read.
 */
public final class KerberosKdc implements AutoCloseable {
    public static final String REALM = "LAGSCALER.TEST";

    private final SimpleKdcServer server;
    private final Path directory;
    private final int port;

    private KerberosKdc(SimpleKdcServer server, Path directory, int port) {
        this.server = server;
        this.directory = directory;
        this.port = port;
    }

    public static KerberosKdc start() throws IOException {
        Path directory = Files.createTempDirectory("lagscaler-kdc-");
        int port = ChildProcess.freePort();
        try {
            SimpleKdcServer server = new SimpleKdcServer();
            server.setWorkDir(directory.toFile());
            server.setKdcHost("127.0.0.1");
            server.setKdcRealm(REALM);
            server.setAllowUdp(false);
            server.setAllowTcp(true);
            server.setKdcTcpPort(port);
            server.init();
            server.start();
            return new KerberosKdc(server, directory, port);
        } catch (KrbException e) {
            throw new IOException("the Kerberos KDC did not start: " + e.getMessage(), e);
        }
    }

    /** A krb5.conf pointing at this KDC over TCP (clients and brokers read it). */
    public String krb5Conf() {
        return """
                [libdefaults]
                  default_realm = %1$s
                  udp_preference_limit = 1
                  dns_lookup_realm = false
                  dns_lookup_kdc = false
                  rdns = false
                [realms]
                  %1$s = {
                    kdc = 127.0.0.1:%2$d
                  }
                """.formatted(REALM, port);
    }

    /** The krb5.conf written to a file in the KDC's folder. */
    public Path krb5ConfFile() {
        Path file = directory.resolve("client-krb5.conf");
        try {
            Files.writeString(file, krb5Conf());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    public void addPrincipal(String principal, String password) throws KrbException {
        server.createPrincipal(qualified(principal), password);
    }

    /** Creates the principal with a random key and returns a keytab holding it. */
    public Path keytab(String principal) throws KrbException {
        server.createPrincipal(qualified(principal));
        Path keytab = directory.resolve(principal.replace('/', '_') + ".keytab");
        server.exportPrincipal(qualified(principal), keytab.toFile());
        return keytab;
    }

    public static String qualified(String principal) {
        return principal.contains("@") ? principal : principal + "@" + REALM;
    }

    @Override
    public void close() {
        try {
            server.stop();
        } catch (KrbException e) {
            // Stopping a loopback listener: nothing to recover.
        }
        ChildProcess.deleteRecursively(directory);
    }
}
