package dev.swarmd.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Cuts a test node's cluster port off with iptables (INPUT chain, DROP), and always puts things back.
 *
 * <p>Why by port and not {@code -s A -d B}: on loopback the kernel gives an outgoing connection the source address
 * 127.0.0.1 whatever the destination (the local route's {@code src}), and Pekko does not bind its outgoing
 * connections, so a rule on the pair of node addresses matches nothing. What identifies a node is its own address
 * with the cluster port: {@code -d W --dport 7946} (everything sent to W's cluster endpoint) and
 * {@code -s W --sport 7946} (everything W's endpoint answers). Artery sends each direction on the sender's own
 * connection, so no peer can deliver a message to W any more: heartbeats to W go unanswered and W's heartbeats are
 * never answered, which both sides see as an unreachable member, as in a partition. Only rules that name one of the
 * tests' own addresses are ever added; each is recorded and deleted by {@link #healAll()} (also at JVM exit).
 */
public final class Iptables {
    public static final int CLUSTER_PORT = 7946;
    private static final List<List<String>> ADDED = new ArrayList<>();
    private static final Path LOG = ItConfig.logDir().resolve("iptables.log");

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(Iptables::healAll, "iptables-it-cleanup"));
    }

    private Iptables() {}

    /** Why iptables cannot be used here, or null if it can (a rule can be added to INPUT and deleted again). */
    public static String unavailableReason() {
        Host.Result list = run(List.of("iptables", "-w", "5", "-n", "-L", "INPUT"));
        if (list.code() != 0) {
            return "`iptables -L INPUT` failed (exit " + list.code() + "): " + list.output().trim();
        }
        // a harmless probe rule on an address no test uses
        List<String> probe = List.of("INPUT", "-p", "tcp", "-d", "127.0.0.254", "--dport", "1", "-j", "DROP");
        Host.Result add = run(cmd("-I", probe));
        if (add.code() != 0) {
            return "`iptables -I INPUT ...` failed (exit " + add.code() + "): " + add.output().trim();
        }
        Host.Result del = run(cmd("-D", probe));
        if (del.code() != 0) {
            return "`iptables -D INPUT ...` of a probe rule failed (exit " + del.code() + "): " + del.output().trim();
        }
        return null;
    }

    /** The two rules that cut {@code address}'s cluster port off from everybody. */
    static List<List<String>> isolationRules(String address) {
        String port = Integer.toString(CLUSTER_PORT);
        return List.of(
                List.of("INPUT", "-p", "tcp", "-d", address, "--dport", port, "-j", "DROP"),
                List.of("INPUT", "-p", "tcp", "-s", address, "--sport", port, "-j", "DROP"));
    }

    /** Cuts {@code address}'s cluster endpoint off (see the class comment). */
    public static synchronized void isolate(String address) {
        requireTestAddress(address);
        for (List<String> rule : isolationRules(address)) {
            Host.Result r = run(cmd("-I", rule));
            if (r.code() != 0) {
                healAll();
                throw new IllegalStateException("iptables -I " + rule + " failed: " + r.output());
            }
            ADDED.add(rule);
        }
    }

    /** Deletes every rule this class added. */
    public static synchronized void healAll() {
        for (List<String> rule : new ArrayList<>(ADDED)) {
            deleteAll(rule);
            ADDED.remove(rule);
        }
    }

    /** Removes any isolation rule for {@code address} left by an earlier, aborted run. */
    public static synchronized void removeLeftovers(String address) {
        requireTestAddress(address);
        for (List<String> rule : isolationRules(address)) {
            deleteAll(rule);
        }
    }

    private static void deleteAll(List<String> rule) {
        // a rule inserted twice must be deleted twice; stop at the first "no such rule"
        for (int i = 0; i < 10; i++) {
            if (run(cmd("-D", rule)).code() != 0) {
                return;
            }
        }
    }

    private static void requireTestAddress(String address) {
        if (!address.matches("127\\.0\\.0\\.3[1-9]")) {
            throw new IllegalArgumentException("only the multi-node tests' own addresses (127.0.0.31-39): " + address);
        }
    }

    private static List<String> cmd(String op, List<String> rule) {
        List<String> c = new ArrayList<>(List.of("iptables", "-w", "5", op));
        c.addAll(rule);
        return c;
    }

    private static Host.Result run(List<String> cmd) {
        return log(cmd, Host.run(cmd));
    }

    private static Host.Result log(List<String> cmd, Host.Result r) {
        try {
            Files.writeString(LOG, Instant.now() + " " + String.join(" ", cmd) + " -> " + r.code() + " " + r.output().trim()
                    + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException ignored) {
            // debugging aid only
        }
        return r;
    }
}
