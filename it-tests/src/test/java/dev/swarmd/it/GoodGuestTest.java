package dev.swarmd.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.github.dockerjava.api.model.Container;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * A node is a guest on its host. Its resolv.conf names a resolver of the test's own, 10.0.0.53, inside the
 * subnet the node would take by default (10.0.0.0/24): the node takes another, adds no route, binds no port 53,
 * and the host's lookups go on working. What it adds to the host goes when it stops; what a killed node left goes
 * when a node starts after it, or with `swarmd cleanup`.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class GoodGuestTest {
    static final int N = 95;
    static final String RESOLVER = "10.0.0.53";
    /** A registry's name, as the host looks it up. */
    static final String LOOKUP = "deb.debian.org";
    static final Pattern OWNER = Pattern.compile("swarmd pid=(\\d+) start=(\\d+)");
    static TestNode node;
    static HostView before;

    /** What of the host a node could change: every route, the nat and filter rules, the bridge's route_localnet. */
    record HostView(String routes, List<String> nat, List<String> filter, String localnet, Host.Result lookup) {
        static HostView now() {
            // linkdown comes and goes with the bridge's containers
            return new HostView(Host.run("ip", "-4", "route", "show", "table", "all").output().replace(" linkdown", ""),
                    Host.run("iptables", "-w", "5", "-t", "nat", "-S").output().lines().toList(),
                    Host.run("iptables", "-w", "5", "-S").output().lines().toList(),
                    Host.run("cat", "/proc/sys/net/ipv4/conf/docker0/route_localnet").output().trim(),
                    Host.run("getent", "hosts", LOOKUP));
        }

        List<String> swarmdRules() {
            return java.util.stream.Stream.concat(nat.stream(), filter.stream())
                    .filter(r -> r.contains("SWARMD-") || r.contains("swarmd pid=")).toList();
        }
    }

    @BeforeAll
    static void start() throws IOException {
        assumeTrue(Iptables.unavailableReason() == null, "iptables is not usable here: " + Iptables.unavailableReason());
        Path resolvConf = ItConfig.workDir().resolve("guest-resolv.conf");
        Files.writeString(resolvConf, "nameserver " + RESOLVER + "\n" + Files.readString(Path.of("/etc/resolv.conf")));
        // The host as it is without swarmd: earlier tests' killed nodes may have left rules.
        Host.run(ItConfig.swarmdLauncher().toString(), "cleanup");
        before = HostView.now();
        node = TestNode.start("guest", N, List.of("--resolv-conf", resolvConf.toString()));
    }

    @AfterAll
    static void stop() {
        if (node != null) {
            node.close();
            node.daemon().removeContainers();
        }
    }

    @Test
    @Order(1)
    void aPoolThatOverlapsTheHostsResolverIsRefusedAndChangesNothing() {
        CliResult r = node.cli().run("swarm", "init", "--advertise-addr", node.advertiseAddr(),
                "--default-addr-pool", "10.0.0.0/16");
        assertNotEquals(0, r.exitCode(), r.describe());
        assertTrue(r.stderr().contains("invalid default address pool 10.0.0.0/16: it overlaps resolver " + RESOLVER),
                r.describe());
        CliResult mask = node.cli().run("swarm", "init", "--advertise-addr", node.advertiseAddr(),
                "--default-addr-pool", "10.77.0.0/16", "--default-addr-pool-mask-length", "30");
        assertTrue(mask.stderr().contains("subnet size is out of range: 30"), mask.describe());
        assertEquals("inactive", node.localNodeState());
    }

    @Test
    @Order(2)
    void theNodeTakesAnotherSubnetAndTheHostKeepsItsRoutesPortsAndLookups() {
        node.swarmInit().ok();
        node.docker("service", "create", "-d", "--name", "web", "nginx").ok();
        node.docker("service", "create", "-d", "--name", "rr", "--endpoint-mode", "dnsrr", "nginx").ok();
        String vip = node.docker("service", "inspect", "--format", "{{range .Endpoint.VirtualIPs}}{{.Addr}}{{end}}",
                "web").stdout().trim();
        assertTrue(vip.matches("10\\.0\\.1\\.\\d+/24"), "the first /24 of 10.0.0.0/8 clear of " + RESOLVER + ": " + vip);
        assertEquals("[10.0.0.0/8] 24", node.docker("info", "--format",
                "{{.Swarm.Cluster.DefaultAddrPool}} {{.Swarm.Cluster.SubnetSize}}").stdout().trim());
        List<Container> rr = node.awaitRunning("rr", 1);
        List<Container> web = node.awaitRunning("web", 1);

        HostView during = HostView.now();
        assertEquals(before.routes(), during.routes(), "a node adds no route");
        assertTrue(during.nat().stream().noneMatch(r -> r.contains(RESOLVER)), "no rule takes the resolver's traffic");
        assertEquals(before.lookup().ok(), during.lookup().ok(), "the host looks " + LOOKUP + " up as before: "
                + before.lookup() + " then " + during.lookup());
        String sockets = Host.run("ss", "-Hlnptu").output();
        assertFalse(listens(sockets, "53"), sockets);
        assertTrue(listens(sockets, "7953"), "the DNS for load balancers: " + sockets);

        // The tasks' resolver is the subnet's first address; through it they find the swarm's names, and others.
        CliResult resolv = MeshTest.ENGINE_CLI.run("exec", web.get(0).getId(), "cat", "/etc/resolv.conf");
        assertEquals(List.of("nameserver 10.0.1.1"), resolv.nonBlankLines(), resolv.describe());
        String rrAddress = rr.get(0).getNetworkSettings().getNetworks().values().iterator().next().getIpAddress();
        Eventually.await("a task finds tasks.rr through the swarm's DNS", () -> assertEquals(Set.of(rrAddress),
                MeshTest.answerAddresses(MeshTest.ENGINE_CLI.run("exec", web.get(0).getId(), "nslookup", "tasks.rr"))));
        if (before.lookup().ok()) {
            assertFalse(MeshTest.answerAddresses(MeshTest.ENGINE_CLI.run("exec", web.get(0).getId(), "nslookup",
                    LOOKUP)).isEmpty(), "outside names go to the host's resolvers");
        }
    }

    @Test
    @Order(3)
    void aWorkerWhoseHostUsesTheSwarmsSubnetSaysSo() throws IOException {
        Path resolvConf = ItConfig.workDir().resolve("guest-worker-resolv.conf");
        Files.writeString(resolvConf, "nameserver 10.0.1.9\n");
        try (TestNode worker = TestNode.start("guest-w", N + 1, List.of("--resolv-conf", resolvConf.toString()))) {
            worker.swarmJoin(MultiNode.printedJoinCommand(node)).ok();
            Eventually.await("the worker warns of the overlap", () -> {
                CliResult info = worker.docker("info");
                // the CLI prints the daemon's warnings on stderr
                assertTrue(info.stderr().contains("WARNING: swarmd: the swarm's subnet 10.0.1.0/24 overlaps resolver "
                        + "10.0.1.9 (" + resolvConf + ") on this host"), info.describe());
            });
            assertFalse(node.docker("info").stderr().contains("WARNING: swarmd"), "the manager's host is clear");
            worker.docker("swarm", "leave").ok();
        }
    }

    @Test
    @Order(4)
    void whatANodeAddsGoesWhenItStopsAndWhatAKilledOneLeftGoesLater() {
        assertFalse(rulesOf(HostView.now()).isEmpty(), "the running node's rules");
        node.daemon().stop();
        assertLeftNothing("after a stop");

        node.daemon().start();
        Eventually.await("the node's rules are back", () -> assertFalse(rulesOf(HostView.now()).isEmpty()));
        node.daemon().kill9();
        assertFalse(rulesOf(HostView.now()).isEmpty(), "a killed node cannot remove its rules");
        Host.Result cleanup = Host.run(ItConfig.swarmdLauncher().toString(), "cleanup");
        assertTrue(cleanup.ok(), cleanup.output());
        assertLeftNothing("after swarmd cleanup");

        node.daemon().start();
        Eventually.await("the node's rules are back", () -> assertFalse(rulesOf(HostView.now()).isEmpty()));
        node.daemon().kill9();
        node.daemon().start();
        assertTrue(deadOwners(HostView.now()).isEmpty(), "the node's start removed what the killed one left: "
                + deadOwners(HostView.now()));
        node.daemon().stop();
        assertLeftNothing("after a kill, a start and a stop");
    }

    @Test
    @Order(5)
    void nodesThatStopTogetherLeaveTheHostAsItWas() {
        List<TestNode> pair = TestNode.startAll(List.of("guest-a", "guest-b"), List.of(N + 2, N + 3));
        try {
            pair.forEach(n -> n.swarmInit().ok());
            Eventually.await("both guard the bridge", () -> assertEquals(2, HostView.now().filter().stream()
                    .filter(r -> r.contains("swarmd pid=")).count()));
        } finally {
            TestNode.closeAll(pair);
        }
        HostView after = HostView.now();
        assertEquals(List.of(), after.swarmdRules(), "nothing of either node stays");
        assertEquals(before.localnet(), after.localnet(), "route_localnet of docker0 as before either");
    }

    /** The rules of this test's node: its chains and what hooks them. */
    static List<String> rulesOf(HostView v) {
        return v.swarmdRules().stream().filter(r -> r.contains("SWARMD-" + node.advertiseAddr())).toList();
    }

    /** swarmd's rules whose process is gone. */
    static List<String> deadOwners(HostView v) {
        return v.swarmdRules().stream().filter(r -> {
            Matcher m = OWNER.matcher(r);
            return m.find() && ProcessHandle.of(Long.parseLong(m.group(1))).flatMap(p -> p.info().startInstant())
                    .map(s -> s.toEpochMilli() != Long.parseLong(m.group(2))).orElse(true);
        }).toList();
    }

    static void assertLeftNothing(String when) {
        HostView after = HostView.now();
        assertEquals(before.routes(), after.routes(), when + ": routes");
        assertEquals(List.of(), rulesOf(after), when + ": the node's chains and hooks");
        assertEquals(List.of(), deadOwners(after), when + ": rules of nodes that are gone");
        if (after.swarmdRules().isEmpty()) {
            assertEquals(before.localnet(), after.localnet(), when + ": route_localnet of docker0");
        }
        String sockets = Host.run("ss", "-Hlnptu").output();
        assertFalse(listens(sockets, "\\d+"), when + ": " + sockets);
    }

    /** Whether `ss -Hlnptu` shows a socket on the node's address and a port matching portPattern. */
    static boolean listens(String sockets, String portPattern) {
        Pattern p = Pattern.compile("[\\s\\[:]" + Pattern.quote(node.advertiseAddr()) + "]?:" + portPattern + "\\s");
        return sockets.lines().anyMatch(l -> p.matcher(l).find());
    }
}
