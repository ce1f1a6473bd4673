using Flare.Web.Hosting;

return await FlareCommandLine.RunAsync(args);

/// <summary>The web host's entry point; public so tests can start it with WebApplicationFactory.</summary>
public partial class Program;
