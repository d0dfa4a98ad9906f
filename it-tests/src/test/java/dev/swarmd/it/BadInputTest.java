package dev.swarmd.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.dockerjava.api.model.Container;
import java.net.URLEncoder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Bad requests are refused the way Docker refuses them (status, {@code Content-Type: application/json}, a JSON
 * {@code message}, the CLI's "Error response from daemon: ..."), and refusing changes nothing: after each one the
 * service list (IDs, names, versions) and the one running container are exactly as before.
 */
class BadInputTest {
    static final int N = 11;
    static final ObjectMapper JSON = new ObjectMapper();
    static TestNode node;
    static String keepId;
    static String keepContainer;
    static String servicesBefore;

    @BeforeAll
    static void startDaemon() {
        node = TestNode.start("badinput", N);
        node.swarmInit().ok();
        keepId = node.docker("service", "create", "-d", "--name", "keep", "alpine", "sleep", "3600").nonBlankLines().get(0);
        keepContainer = node.awaitRunning("keep", 1).get(0).getId();
        servicesBefore = servicesSnapshot();
    }

    @AfterAll
    static void stopDaemon() {
        if (node != null) {
            node.close();
        }
    }

    /** IDs, names and versions of every service, as GET /services gives them. */
    static String servicesSnapshot() {
        RawHttp.Response r = node.raw().get(TestNode.API + "/services");
        assertEquals(200, r.status(), r.toString());
        try {
            List<String> items = new ArrayList<>();
            for (JsonNode s : JSON.readTree(r.body())) {
                items.add(s.path("ID").asText() + " " + s.path("Spec").path("Name").asText() + " "
                        + s.path("Version").path("Index").asLong());
            }
            items.sort(null);
            return String.join("\n", items);
        } catch (Exception e) {
            throw new AssertionError("GET /services did not answer a JSON array: " + r, e);
        }
    }

    @AfterEach
    void nothingChanged() {
        assertEquals(servicesBefore, servicesSnapshot(), "the services are unchanged");
        CliResult ls = node.docker("service", "ls", "--format", "{{.ID}} {{.Name}}");
        assertEquals(List.of(keepId.substring(0, 12) + " keep"), ls.nonBlankLines(), ls.describe());
        List<Container> running = node.running("keep");
        assertEquals(1, running.size(), Engine.describe(running));
        assertEquals(keepContainer, running.get(0).getId(), "keep's container untouched");
        for (String name : List.of("bad name!", "neg", "x1", "x2", "x3", "x4", "x5", "x6")) {
            assertTrue(node.allContainers(name).isEmpty(), "no container for " + name);
        }
    }

    /** Asserts an error reply as the CLI needs it: status, Content-Type exactly application/json, a JSON message. */
    static String assertError(RawHttp.Response r, int status) {
        assertEquals(status, r.status(), r.toString());
        assertEquals("application/json", r.contentType(),
                "Content-Type must be exactly application/json or the CLI prints the raw body: " + r);
        try {
            JsonNode body = JSON.readTree(r.body());
            String message = body.path("message").asText("");
            assertFalse(message.isBlank(), "a JSON message: " + r);
            return message;
        } catch (Exception e) {
            throw new AssertionError("error body is not JSON: " + r, e);
        }
    }

    static String spec(String name, String mode) {
        return "{\"Name\":\"" + name + "\",\"Labels\":{},\"TaskTemplate\":{\"ContainerSpec\":{\"Image\":\"alpine:latest\","
                + "\"Args\":[\"sleep\",\"3600\"]}}" + (mode == null ? "" : ",\"Mode\":" + mode) + "}";
    }

    @Test
    void invalidServiceNameFromTheCli() {
        CliResult r = node.cli().run("service", "create", "-d", "--name", "bad name!", "alpine", "sleep", "1");
        assertEquals(1, r.exitCode(), r.describe());
        assertTrue(r.stderr().startsWith("Error response from daemon: "), r.describe());
        assertTrue(r.stderr().contains("name must be valid as a DNS name component"), r.describe());

        String message = assertError(node.raw().postJson(TestNode.API + "/services/create", spec("bad name!", null)), 400);
        assertTrue(message.contains("name must be valid as a DNS name component"), message);
    }

    @Test
    void negativeReplicasAreRefusedByTheCliItself() {
        CliResult r = node.cli().run("service", "create", "-d", "--replicas", "-1", "--name", "neg", "alpine", "sleep", "1");
        assertEquals(125, r.exitCode(), r.describe());
        assertTrue(r.stderr().contains("invalid argument \"-1\" for \"--replicas\" flag"), r.describe());
    }

    @Test
    void negativeReplicasInRawJson() {
        assertError(node.raw().postJson(TestNode.API + "/services/create", spec("x1", "{\"Replicated\":{\"Replicas\":-1}}")), 400);
    }

    @Test
    void stringReplicasInRawJson() {
        assertError(node.raw().postJson(TestNode.API + "/services/create",
                spec("x2", "{\"Replicated\":{\"Replicas\":\"three\"}}")), 400);
    }

    @Test
    void malformedJsonBody() {
        assertError(node.raw().postJson(TestNode.API + "/services/create", "{\"Name\":\"x3\","), 400);
        assertError(node.raw().postJson(TestNode.API + "/services/create", "this is not json"), 400);
    }

    @Test
    void theJoinEndpointAnswersUnreadableRequestsAsTheClientsError() throws Exception {
        Path big = Files.createTempFile(ItConfig.workDir(), "join-", ".txt");
        Files.writeString(big, "x".repeat(100_000));
        String url = "https://" + node.advertiseAddr() + ":2377/join";
        // the join endpoint's TLS is checked against the token's CA digest; these requests never get that far
        Host.Result huge = Host.run("curl", "-sk", "-w", " %{http_code}", "-X", "POST", "--data-binary", "@" + big, url);
        assertTrue(huge.output().endsWith(" 413"), huge.output());
        Host.Result garbage = Host.run("curl", "-sk", "-w", " %{http_code}", "-X", "POST", "--data", "garbage", url);
        assertTrue(garbage.output().endsWith(" 400") && garbage.output().contains("invalid join request"),
                garbage.output());
        Files.delete(big);
    }

    @Test
    void oversizedBodyIsTheClientsError() {
        String huge = "{\"Name\":\"x4\",\"Labels\":{\"l\":\"" + "x".repeat(10 << 20) + "\"}}";
        assertError(node.raw().postJson(TestNode.API + "/services/create", huge), 413);
        assertEquals(List.of(), node.docker("service", "ls", "-q", "--filter", "name=x4").nonBlankLines(), "nothing was created");
    }

    @Test
    void missingImage() {
        String message = assertError(node.raw().postJson(TestNode.API + "/services/create",
                "{\"Name\":\"x4\",\"TaskTemplate\":{\"ContainerSpec\":{}}}"), 400);
        assertTrue(message.contains("ContainerSpec: image reference must be provided"), message);
    }

    @Test
    void unknownFilterKey() {
        String filters = URLEncoder.encode("{\"bogus\":{\"x\":true}}", StandardCharsets.UTF_8);
        String message = assertError(node.raw().get(TestNode.API + "/services?filters=" + filters), 400);
        assertTrue(message.contains("Invalid filter 'bogus'"), message);

        CliResult r = node.cli().run("service", "ls", "--filter", "bogus=x");
        assertEquals(1, r.exitCode(), r.describe());
        assertTrue(r.stderr().contains("Error response from daemon: Invalid filter 'bogus'"), r.describe());
    }

    @Test
    void duplicateName() {
        CliResult r = node.cli().run("service", "create", "-d", "--name", "keep", "alpine", "sleep", "1");
        assertEquals(1, r.exitCode(), r.describe());
        assertTrue(r.stderr().startsWith("Error response from daemon: "), r.describe());
        assertTrue(r.stderr().contains("name conflicts with an existing object"), r.describe());

        String message = assertError(node.raw().postJson(TestNode.API + "/services/create", spec("keep", null)), 409);
        assertTrue(message.contains("name conflicts with an existing object"), message);
    }

    @Test
    void unknownServices() {
        String message = assertError(node.raw().get(TestNode.API + "/services/nosuch"), 404);
        assertTrue(message.contains("service nosuch not found"), message);
        assertError(node.raw().delete(TestNode.API + "/services/nosuch"), 404);

        CliResult rm = node.cli().run("service", "rm", "nosuch");
        assertEquals(1, rm.exitCode(), rm.describe());
        assertTrue(rm.stderr().contains("Error response from daemon: service nosuch not found"), rm.describe());
        CliResult inspect = node.cli().run("service", "inspect", "nosuch");
        assertEquals(1, inspect.exitCode(), inspect.describe());
        assertTrue(inspect.stderr().contains("no such service: nosuch"), inspect.describe());
        CliResult ps = node.cli().run("service", "ps", "nosuch");
        assertEquals(1, ps.exitCode(), ps.describe());
        assertTrue(ps.stderr().contains("no such service: nosuch"), ps.describe());
        CliResult scale = node.cli().run("service", "scale", "-d", "nosuch=2");
        assertEquals(1, scale.exitCode(), scale.describe());
    }

    @Test
    void staleVersionOnUpdate() {
        // the CLI always sends the version it just read; a stale one must be refused, not applied
        RawHttp.Response svc = node.raw().get(TestNode.API + "/services/keep");
        assertEquals(200, svc.status(), svc.toString());
        try {
            JsonNode s = JSON.readTree(svc.body());
            long version = s.path("Version").path("Index").asLong();
            String spec = JSON.writeValueAsString(s.path("Spec"));
            RawHttp.Response stale = node.raw().postJson(
                    TestNode.API + "/services/" + keepId + "/update?version=" + (version - 1), spec);
            assertTrue(stale.status() >= 400, "a stale version is refused: " + stale);
            RawHttp.Response none = node.raw().postJson(TestNode.API + "/services/" + keepId + "/update", spec);
            assertTrue(none.status() >= 400, "a missing version is refused: " + none);
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }
}
