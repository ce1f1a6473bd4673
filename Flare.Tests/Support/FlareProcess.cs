using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Flare.Tests.Support;

/// <summary>
/// Flare's program as a child process on a free loopback port, so a test can kill it for real (SIGKILL: no shutdown
/// code runs) and then start <see cref="FlareServer"/> on the same data directory and database (<see cref="TestProvider"/>). Its client is the administrator.
/// </summary>
public sealed class FlareProcess : IDisposable
{
    private readonly Process _child;

    private FlareProcess(Process child, int port)
    {
        _child = child;
        Client = new HttpClient(new AdminTokenHandler(new SocketsHttpHandler())) { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
    }

    public HttpClient Client { get; }

    /// <summary>Starts Flare without demo data or emulator on <paramref name="dataDirectory"/> and waits until <paramref name="readyPath"/> answers.</summary>
    public static async Task<FlareProcess> StartAsync(string dataDirectory, string readyPath, CancellationToken ct)
    {
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList =
            {
                Path.Combine(AppContext.BaseDirectory, "Flare.Web.dll"), "--urls", $"http://127.0.0.1:{port}", "--environment", "Testing",
                $"--Flare:DataDirectory={dataDirectory}", "--Flare:Demo=false", "--Flare:HostEmulator=false", "--Flare:DemoTrafficPerSecond=0",
                $"--Flare:AdminToken={AdminCredentials.Token}",
            },
            WorkingDirectory = dataDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in TestProvider.FlareArgs(dataDirectory))
        {
            start.ArgumentList.Add(arg);
        }

        var child = Process.Start(start)!;
        child.OutputDataReceived += (_, _) => { };
        child.ErrorDataReceived += (_, _) => { };
        child.BeginOutputReadLine();
        child.BeginErrorReadLine();

        var flare = new FlareProcess(child, port);
        try
        {
            await flare.WaitUntilServingAsync(readyPath, ct);
            return flare;
        }
        catch
        {
            flare.Dispose();
            throw;
        }
    }

    /// <summary>SIGKILL, and wait until the process is gone.</summary>
    public async Task KillAsync(CancellationToken ct)
    {
        _child.Kill(entireProcessTree: true);
        await _child.WaitForExitAsync(ct);
    }

    public void Dispose()
    {
        if (!_child.HasExited)
        {
            _child.Kill(entireProcessTree: true);
        }

        _child.Dispose();
        Client.Dispose();
    }

    private async Task WaitUntilServingAsync(string path, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            Assert.False(_child.HasExited, "Flare exited at start.");
            try
            {
                using var response = await Client.GetAsync(path, ct);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }

            Assert.True(DateTime.UtcNow < deadline, "Flare did not start serving within 60 s.");
            await Task.Delay(100, ct);
        }
    }

    /// <summary>A loopback port nothing listens on now (the OS's next ephemeral one), for a server a test starts.</summary>
    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
