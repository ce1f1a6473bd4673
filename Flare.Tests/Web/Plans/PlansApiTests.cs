using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Flare.Tests.Support;

namespace Flare.Tests.Web.Plans;

[Collection(nameof(HostCollection))]
public sealed class PlansApiTests : IAsyncLifetime
{
    private readonly FlareWebFactory _factory = new();
    private HttpClient _http = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        _http = _factory.CreateClient();
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => _factory.DisposeAsync();

    private static async Task<JsonElement> Json(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement;

    private async Task<JsonElement> CreateReadyAsync(string policy, object? parameters = null, string reason = "test")
    {
        var created = await _http.PostAsJsonAsync("/api/plans", new { policy, parameters, reason }, Ct);
        Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
        var id = (await Json(created)).GetProperty("id").GetInt64();
        Assert.Equal($"/api/plans/{id}", created.Headers.Location?.ToString());
        return await WaitForStatusAsync(id, "Ready");
    }

    private async Task<JsonElement> WaitForStatusAsync(long id, string status)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var plan = await Json(await _http.GetAsync($"/api/plans/{id}", Ct));
            if (plan.GetProperty("status").GetString() != "Computing")
            {
                Assert.Equal(status, plan.GetProperty("status").GetString());
                return plan;
            }

            Assert.True(DateTime.UtcNow < deadline, $"Plan {id} was still computing after 30 s.");
            await Task.Delay(50, Ct);
        }
    }

    [Fact]
    public async Task Create_Returns202_ComputedInTheBackground_WithPredictions()
    {
        var plan = await CreateReadyAsync("best-quality", reason: "highest quality for the launch");

        Assert.Equal("best-quality", plan.GetProperty("policy").GetString());
        Assert.Equal("api", plan.GetProperty("createdBy").GetString());
        Assert.Equal("highest quality for the launch", plan.GetProperty("reason").GetString());
        // No deployments: nothing to route, but the plan still says what it was computed on.
        Assert.Equal(JsonValueKind.Object, plan.GetProperty("predicted").ValueKind);
    }

    [Fact]
    public async Task Create_InvalidParameters_400WithFieldErrors()
    {
        var response = await _http.PostAsJsonAsync("/api/plans", new { policy = "port", parameters = new { budgetUsd = -5, budgetPeriodMinutes = 0 }, reason = "" }, Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var errors = (await Json(response)).GetProperty("errors");
        Assert.True(errors.TryGetProperty("parameters.budgetUsd", out _));
        Assert.True(errors.TryGetProperty("parameters.budgetPeriodMinutes", out _));
        Assert.True(errors.TryGetProperty("reason", out _));

        var unknown = await Json(await _http.PostAsJsonAsync("/api/plans", new { policy = "magic", reason = "x" }, Ct));
        Assert.True(unknown.GetProperty("errors").TryGetProperty("policy", out _));
    }

    [Fact]
    public async Task ActivateLiveRollback_RoundTrip_WithWhoFromTheHeader()
    {
        var live = await Json(await _http.GetAsync("/api/plans/live", Ct));
        Assert.Equal("least-outstanding", live.GetProperty("policy").GetString());
        Assert.Equal(0, live.GetProperty("version").GetInt64());

        var first = (await CreateReadyAsync("best-quality")).GetProperty("id").GetInt64();
        var second = (await CreateReadyAsync("random", new { seed = 4 })).GetProperty("id").GetInt64();
        using var activate = new HttpRequestMessage(HttpMethod.Post, $"/api/plans/{first}/activate") { Content = JsonContent.Create(new { reason = "launch" }) };
        activate.Headers.Add("X-Flare-Operator", "dana");
        Assert.Equal(HttpStatusCode.OK, (await _http.SendAsync(activate, Ct)).StatusCode);
        var activated = await Json(await _http.PostAsJsonAsync($"/api/plans/{second}/activate", new { reason = "spread load" }, Ct));
        Assert.Equal(first, activated.GetProperty("previousPlanId").GetInt64());

        live = await Json(await _http.GetAsync("/api/plans/live", Ct));
        Assert.Equal(second, live.GetProperty("version").GetInt64());
        Assert.Equal("random", live.GetProperty("policy").GetString());
        Assert.Equal("spread load", live.GetProperty("activation").GetProperty("reason").GetString());

        var back = await _http.PostAsJsonAsync("/api/plans/rollback", new { reason = "random was a bad idea" }, Ct);
        Assert.Equal(HttpStatusCode.OK, back.StatusCode);
        live = await Json(await _http.GetAsync("/api/plans/live", Ct));
        Assert.Equal(first, live.GetProperty("version").GetInt64());

        var trail = await Json(await _http.GetAsync("/api/plans/activations", Ct));
        Assert.Equal(["api", "api", "dana"], trail.EnumerateArray().Select(a => a.GetProperty("activatedBy").GetString()));
        var list = await Json(await _http.GetAsync("/api/plans", Ct));
        Assert.Equal([false, true], list.EnumerateArray().Select(p => p.GetProperty("isLive").GetBoolean()));
    }

    [Fact]
    public async Task Errors_AreProblemDetails_404_409_AndTheReasonIsRequired()
    {
        var missing = await _http.PostAsJsonAsync("/api/plans/42/activate", new { reason = "x" }, Ct);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, (await _http.GetAsync("/api/plans/42", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await _http.PostAsJsonAsync("/api/plans/rollback", new { reason = "x" }, Ct)).StatusCode);

        var id = (await CreateReadyAsync("cheapest")).GetProperty("id").GetInt64();
        var noReason = await _http.PostAsync($"/api/plans/{id}/activate", null, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, noReason.StatusCode);
        Assert.True((await Json(noReason)).GetProperty("errors").TryGetProperty("reason", out _));
    }

    [Fact]
    public async Task FixedPlan_ModelMustBeRegistered_FailedPlanKeepsItsReason()
    {
        var unknown = await Json(await _http.PostAsJsonAsync("/api/plans", new { policy = "fixed", parameters = new { model = "ghost" }, reason = "x" }, Ct));
        Assert.True(unknown.GetProperty("errors").TryGetProperty("parameters.model", out _));

        // A registered model without an enabled deployment: accepted, then failed with the reason.
        await _http.PostAsJsonAsync("/api/models", Samples.Llama8B, Ct);
        var created = await _http.PostAsJsonAsync("/api/plans", new { policy = "fixed", parameters = new { model = Samples.Llama8B.Name }, reason = "x" }, Ct);
        var failed = await WaitForStatusAsync((await Json(created)).GetProperty("id").GetInt64(), "Failed");
        Assert.Contains("no enabled deployment", failed.GetProperty("failure").GetString());
    }

    [Fact]
    public async Task OpenApi_DocumentsThePlanEndpoints()
    {
        var doc = await Json(await _http.GetAsync("/openapi/v1.json", Ct));
        var paths = doc.GetProperty("paths");

        foreach (var path in new[] { "/api/plans", "/api/plans/live", "/api/plans/activations", "/api/plans/{id}", "/api/plans/{id}/activate", "/api/plans/rollback" })
        {
            Assert.True(paths.TryGetProperty(path, out _), $"{path} is not in the OpenAPI document");
        }
    }
}
