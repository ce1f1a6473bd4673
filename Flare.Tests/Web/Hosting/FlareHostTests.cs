using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Flare.Data.Registry;
using Flare.Tests.Support;
using Flare.Web.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Flare.Tests.Web.Hosting;

[Collection(nameof(HostCollection))]
public sealed class FlareHostTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Start_ServesPagesAndPackageAssets()
    {
        using var dir = new TempDirectory();
        await using var server = new FlareServer(dir.Path, demo: true);
        await server.StartAsync(Ct);
        using var http = await SignIn.CreateSignedInClientAsync(server.BaseAddress, Ct);

        foreach (var path in new[] { "/", "/gpus", "/models", "/deployments", "/_content/MudBlazor/MudBlazor.min.css", "/app.css" })
        {
            var response = await http.GetAsync(path, Ct);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path} returned {(int)response.StatusCode}");
        }

        Assert.Contains("Overview", await http.GetStringAsync("/", Ct));
        Assert.True(await TestProvider.DatabaseExistsAsync(dir.Path, Ct));
    }

    [Fact]
    public async Task Restart_KeepsRegistryData_AndDoesNotReseedOverEdits()
    {
        using var dir = new TempDirectory();
        var server = new FlareServer(dir.Path, demo: true);
        await server.StartAsync(Ct);
        int gpuId, deletedId, remaining;
        using (var http = server.CreateClient())
        {
            var gpus = JsonDocument.Parse(await http.GetStringAsync("/api/gpu-types", Ct)).RootElement;
            gpuId = gpus[0].GetProperty("id").GetInt32();
            Assert.Equal(HttpStatusCode.OK, (await http.PutAsJsonAsync($"/api/gpu-pool/{gpuId}", new { count = 11 }, Ct)).StatusCode);
            var deployments = JsonDocument.Parse(await http.GetStringAsync("/api/deployments", Ct)).RootElement;
            deletedId = deployments[0].GetProperty("id").GetInt32();
            remaining = deployments.GetArrayLength() - 1;
            Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync($"/api/deployments/{deletedId}", Ct)).StatusCode);
        }

        await server.StopAsync();
        await using var again = new FlareServer(dir.Path, demo: true);
        await again.StartAsync(Ct);

        var store = again.Services.GetRequiredService<RegistryStore>();
        Assert.Equal(11, (await store.GetGpuTypeAsync(gpuId, Ct)).Value!.PoolCount);
        Assert.Equal(remaining, (await store.ListDeploymentsAsync(Ct)).Count);
        Assert.Equal(OutcomeKind.NotFound, (await store.GetDeploymentAsync(deletedId, Ct)).Kind);
    }

    [Fact]
    public async Task Help_ListsTheVerbs()
    {
        var original = Console.Out;
        using var captured = new StringWriter();
        Console.SetOut(captured);
        try
        {
            Assert.Equal(0, await FlareCommandLine.RunAsync(["--help"]));
        }
        finally
        {
            Console.SetOut(original);
        }

        var help = captured.ToString();
        Assert.Contains("migrate", help);
        Assert.Contains("--urls", help);
        Assert.Contains(FlareHost.DefaultUrl, help);
    }

    [Fact]
    public async Task UnknownVerb_ExitCode2()
    {
        var original = Console.Error;
        using var captured = new StringWriter();
        Console.SetError(captured);
        try
        {
            Assert.Equal(2, await FlareCommandLine.RunAsync(["frobnicate"]));
        }
        finally
        {
            Console.SetError(original);
        }

        Assert.Contains("unknown verb 'frobnicate'", captured.ToString());
    }

    [Fact]
    public async Task BadConfiguration_FailsAtStartWithTheSettingNamed()
    {
        using var dir = new TempDirectory();
        await using var server = new FlareServer(dir.Path, demo: false, "--Flare:EmulatorBaseUrl=not a url");

        var error = await Assert.ThrowsAnyAsync<Exception>(() => server.StartAsync(Ct));

        Assert.Contains("EmulatorBaseUrl", error.Message);
    }
}
