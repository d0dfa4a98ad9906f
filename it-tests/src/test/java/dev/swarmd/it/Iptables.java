package dev.swarmd.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.IntPredicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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
 *
 * <p>The managers' Raft log (Ratis over gRPC, {@link #RAFT_PORT}) is another matter: a request and its answer travel on
 * the connection of whoever asked, so the connections a manager opened itself keep working when its own ports are cut
 * off, and they cannot be told by address from its peers' connections to each other. {@link #cutConnections} finds
 * them by their owning process ({@code ss -p}) and cuts each one by its own ports.
 */
public final class Iptables {
    public static final int CLUSTER_PORT = 7946;
    /** The managers' Raft port (Ratis, gRPC). */
    public static final int RAFT_PORT = 7947;
    /** An isolation rule as {@code iptables -S} lists it. */
    private static final Pattern ISOLATION_RULE = Pattern.compile(
            "-A INPUT -([sd]) ([0-9.]+)/32 -p tcp -m tcp --([sd])port (\\d+) -j DROP");
    /** A connection rule as {@code iptables -S} lists it. */
    private static final Pattern CONNECTION_RULE = Pattern.compile(
            "-A INPUT -s ([0-9.]+)/32 -d ([0-9.]+)/32 -p tcp -m tcp --sport (\\d+) --dport (\\d+) -j DROP");
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
        return isolationRules(address, List.of(CLUSTER_PORT));
    }

    /** The two rules per port that cut {@code address}'s endpoints on {@code ports} off from everybody. */
    static List<List<String>> isolationRules(String address, List<Integer> ports) {
        List<List<String>> rules = new ArrayList<>();
        for (int p : ports) {
            String port = Integer.toString(p);
            rules.add(List.of("INPUT", "-p", "tcp", "-d", address, "--dport", port, "-j", "DROP"));
            rules.add(List.of("INPUT", "-p", "tcp", "-s", address, "--sport", port, "-j", "DROP"));
        }
        return rules;
    }

    /** Cuts {@code address}'s cluster endpoint off (see the class comment). */
    public static synchronized void isolate(String address) {
        isolate(address, List.of(CLUSTER_PORT));
    }

    /** Cuts {@code address}'s endpoints on each of {@code ports} off: nothing reaches them, nothing they answer leaves. */
    public static synchronized void isolate(String address, List<Integer> ports) {
        requireTestAddress(address);
        for (List<String> rule : isolationRules(address, ports)) {
            add(rule);
        }
    }

    /**
     * Cuts off, both ways, each TCP connection that process {@code pid} opened (or is opening) to one of
     * {@code peers}' ports that {@code port} accepts and that is not cut yet; returns how many it cut. Call it again
     * while the cut must hold: a connection opened since is only cut then.
     */
    public static synchronized int cutConnections(long pid, Collection<String> peers, IntPredicate port) {
        peers.forEach(Iptables::requireTestAddress);
        int cut = 0;
        for (String[] c : sockets("-tanpH", pid)) {
            String[] local = endpoint(c[0]);
            String[] peer = endpoint(c[1]);
            if (local == null || peer == null || !peers.contains(peer[0]) || !port.test(Integer.parseInt(peer[1]))) {
                continue;
            }
            List<String> out = List.of("INPUT", "-p", "tcp", "-s", local[0], "--sport", local[1], "-d", peer[0],
                    "--dport", peer[1], "-j", "DROP");
            List<String> back = List.of("INPUT", "-p", "tcp", "-s", peer[0], "--sport", peer[1], "-d", local[0],
                    "--dport", local[1], "-j", "DROP");
            if (!ADDED.contains(out)) {
                add(out);
                add(back);
                cut++;
            }
        }
        return cut;
    }

    /** The TCP ports process {@code pid} listens on at {@code address}. */
    public static Set<Integer> listeningPorts(long pid, String address) {
        Set<Integer> ports = new TreeSet<>();
        for (String[] c : sockets("-tlnpH", pid)) {
            String[] local = endpoint(c[0]);
            if (local != null && local[0].equals(address)) {
                ports.add(Integer.parseInt(local[1]));
            }
        }
        return ports;
    }

    /** {local, peer} columns of each socket {@code ss <flags>} lists for process {@code pid}. */
    private static List<String[]> sockets(String flags, long pid) {
        Host.Result ss = Host.run("ss", flags);
        if (!ss.ok()) {
            throw new IllegalStateException("ss " + flags + " failed (exit " + ss.code() + "): " + ss.output());
        }
        List<String[]> sockets = new ArrayList<>();
        for (String line : ss.output().split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (line.contains("pid=" + pid + ",") && f.length >= 5) {
                sockets.add(new String[] {f[3], f[4]});
            }
        }
        return sockets;
    }

    /** {address, port} of an ss column ({@code 127.0.0.1:5}, {@code [::ffff:127.0.0.1]:5}), or null ({@code *:*}). */
    private static String[] endpoint(String column) {
        int colon = column.lastIndexOf(':');
        if (colon < 0 || !column.substring(colon + 1).matches("\\d+")) {
            return null;
        }
        String host = column.substring(0, colon).replace("[", "").replace("]", "");
        if (host.startsWith("::ffff:")) {
            host = host.substring("::ffff:".length());
        }
        return host.matches("[0-9.]+") ? new String[] {host, column.substring(colon + 1)} : null;
    }

    private static void add(List<String> rule) {
        Host.Result r = run(cmd("-I", rule));
        if (r.code() != 0) {
            healAll();
            throw new IllegalStateException("iptables -I " + rule + " failed: " + r.output());
        }
        ADDED.add(rule);
    }

    /** Deletes every rule this class added. */
    public static synchronized void healAll() {
        for (List<String> rule : new ArrayList<>(ADDED)) {
            deleteAll(rule);
            ADDED.remove(rule);
        }
    }

    /** Removes any isolation or connection rule for {@code address} left by an earlier, aborted run. */
    public static synchronized void removeLeftovers(String address) {
        requireTestAddress(address);
        for (List<String> rule : isolationRules(address, List.of(CLUSTER_PORT, RAFT_PORT))) {
            deleteAll(rule);
        }
        // and those on other ports, or on a connection, as iptables lists them
        for (String line : run(List.of("iptables", "-w", "5", "-S", "INPUT")).output().split("\n")) {
            Matcher i = ISOLATION_RULE.matcher(line.trim());
            Matcher c = CONNECTION_RULE.matcher(line.trim());
            if (i.matches() && i.group(1).equals(i.group(3)) && i.group(2).equals(address)) {
                deleteAll(List.of("INPUT", "-p", "tcp", "-" + i.group(1), address, "--" + i.group(3) + "port",
                        i.group(4), "-j", "DROP"));
            } else if (c.matches() && (c.group(1).equals(address) || c.group(2).equals(address))) {
                deleteAll(List.of("INPUT", "-p", "tcp", "-s", c.group(1), "--sport", c.group(3), "-d", c.group(2),
                        "--dport", c.group(4), "-j", "DROP"));
            }
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
        if (!address.matches("127\\.0\\.0\\.(3[1-9]|8[5-7])")) {
            throw new IllegalArgumentException("only the multi-node tests' own addresses (127.0.0.31-39, 85-87): "
                    + address);
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
