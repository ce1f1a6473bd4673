using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Flare.Data.Registry;
using Flare.Routing.Registry;
using Flare.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Flare.Tests.Web.Security;

/// <summary>Backend API keys: encrypted in the database, sent upstream, never shown again — also after a restart.</summary>
[Collection(nameof(HostCollection))]
public sealed class SecretsTests
{
    private const string Secret = "sk-upstream-very-secret-0123456789";
    private const string ClientKey = "sk-flare-secrets-test-0123456789abcdef";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task BackendKey_EncryptedAtRest_SentUpstream_NeverReturned_AndReadableAfterRestart()
    {
        using var dir = new TempDirectory();
        var seen = new List<string>();
        await using var upstream = await StartUpstreamAsync(seen);
        var upstreamUrl = upstream.Urls.First();

        int deploymentId;
        await using (var server = new FlareServer(dir.Path, demo: false, $"--Flare:BootstrapApiKey={ClientKey}"))
        {
            await server.StartAsync(Ct);
            using var admin = server.CreateClient();
            var model = await (await admin.PostAsJsonAsync("/api/models", Samples.Llama8B, Ct)).Content.ReadFromJsonAsync<ModelView>(Flare.Tests.Web.Profiling.ProfilingFixture.Json, Ct);
            var created = await admin.PostAsJsonAsync("/api/deployments", new DeploymentInput
            {
                Name = "paid-api", ModelId = model!.Id, Kind = DeploymentKind.Api, BaseUrl = upstreamUrl + "/v1",
                ServedModelName = "upstream-model", ApiKey = Secret, MaxConcurrency = 8,
            }, Ct);
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var body = await created.Content.ReadAsStringAsync(Ct);
            deploymentId = (await created.Content.ReadFromJsonAsync<DeploymentView>(Flare.Tests.Web.Profiling.ProfilingFixture.Json, Ct))!.Id;

            Assert.DoesNotContain(Secret, body);
            Assert.DoesNotContain(Secret, await admin.GetStringAsync($"/api/deployments/{deploymentId}", Ct));
            Assert.DoesNotContain(Secret, await admin.GetStringAsync("/api/deployments", Ct));

            await ChatAsync(server);
            Assert.Equal($"Bearer {Secret}", seen.Last());
        }

        // At rest: the column holds ciphertext, and nothing the database stored (on SQLite every file, WAL included; on
        // PostgreSQL every row) holds the key.
        await using (var connection = await TestProvider.OpenConnectionAsync(dir.Path, Ct))
        {
            await using var command = connection.CreateCommand();
            command.CommandText = $"SELECT \"ApiKey\" FROM \"Deployments\" WHERE \"Id\" = {deploymentId}";
            var stored = (string)(await command.ExecuteScalarAsync(Ct))!;
            Assert.StartsWith(Flare.Data.Security.SecretsInterceptor.Prefix, stored);
            Assert.DoesNotContain(Secret, stored);
        }

        var holder = await TestProvider.FindStoredAsync(dir.Path, Secret, Ct);
        Assert.True(holder is null, $"{holder} holds the key in clear");

        // A restart reads the key ring from the data directory: the key still decrypts and still goes upstream.
        await using (var server = new FlareServer(dir.Path, demo: false, $"--Flare:BootstrapApiKey={ClientKey}"))
        {
            await server.StartAsync(Ct);
            await ChatAsync(server);
            Assert.Equal($"Bearer {Secret}", seen.Last());
        }
    }

    private static async Task ChatAsync(FlareServer server)
    {
        using var client = server.CreateAnonymousClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ClientKey);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var response = await client.PostAsJsonAsync("/v1/chat/completions",
                new { model = Samples.Llama8B.Name, messages = new[] { new { role = "user", content = "hi" } } }, Ct);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                Assert.DoesNotContain(Secret, await response.Content.ReadAsStringAsync(Ct));
                return;
            }

            // The routing snapshot picks up a new deployment within moments.
            Assert.True(DateTime.UtcNow < deadline, $"/v1 answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(Ct)}");
            await Task.Delay(100, Ct);
        }
    }

    /// <summary>A real HTTP upstream that answers like an OpenAI-compatible API and notes the Authorization it got.</summary>
    private static async Task<WebApplication> StartUpstreamAsync(List<string> seen)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.MapPost("/v1/chat/completions", (HttpContext http) =>
        {
            lock (seen)
            {
                seen.Add(http.Request.Headers.Authorization.ToString());
            }

            return Results.Json(new
            {
                id = "chatcmpl-1", @object = "chat.completion", created = 0, model = "upstream-model",
                choices = new[] { new { index = 0, message = new { role = "assistant", content = "hello" }, finish_reason = "stop" } },
                usage = new { prompt_tokens = 3, completion_tokens = 1, total_tokens = 4 },
            });
        });
        await app.StartAsync(Ct);
        return app;
    }
}
