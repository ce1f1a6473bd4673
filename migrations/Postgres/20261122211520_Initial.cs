using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Flare.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "AdminUsers",
                columns: table => new
                {
                    Id = table.Column<int>(type: "integer", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    UserName = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    PasswordHash = table.Column<string>(type: "character varying(400)", maxLength: 400, nullable: false),
                    FailedSignIns = table.Column<int>(type: "integer", nullable: false),
                    LockedUntilUtc = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    CreatedUtc = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    LastSignInUtc = table.Column<DateTime>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AdminUsers", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "ApiKeys",
                columns: table => new
                {
                    Id = table.Column<int>(type: "integer", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Name = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    Prefix = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    KeyHash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    RequestsPerMinute = table.Column<int>(type: "integer", nullable: true),
                    TokensPerMinute = table.Column<int>(type: "integer", nullable: true),
                    CreatedUtc = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    RevokedUtc = table.Column<DateTime>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ApiKeys", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "DataProtectionKeys",
                columns: table => new
                {
                    Id = table.Column<int>(type: "integer", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    FriendlyName = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    Xml = table.Column<string>(type: "text", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_DataProtectionKeys", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "GpuTypes",
                columns: table => new
                {
                    Id = table.Column<int>(type: "integer", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Name = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    MemoryGiB = table.Column<double>(type: "double precision", nullable: false),
                    PricePerHourUsd = table.Column<double>(type: "double precision", nullable: false),
                    PeakBf16Tflops = table.Column<double>(type: "double precision", nullable: false),
                    MemoryBandwidthGBs = table.Column<double>(type: "double precision", nullable: false),
                    PoolCount = table.Column<int>(type: "integer", nullable: false),
                    CreatedUtc = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    UpdatedUtc = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_GpuTypes", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "HistoryDatasets",
                columns: table => new
                {
                    Id = table.Column<int>(type: "integer", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    Format = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    ContentSha256 = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    Status = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    StartedUtc = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    FinishedUtc = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    RowsRead = table.Column<int>(type: "integer", nullable: false),
                    RowsImported = table.Column<int>(type: "integer", nullable: false),
                    RowsRejected = table.Column<int>(type: "integer", nullable: false),
                    BytesRead = table.Column<long>(type: "bigint", nullable: false),
                    BytesTotal = table.Column<long>(type: "bigint", nullable: false),
                    IssuesJson = table.Column<string>(type: "text", nullable: false),
                    Failure = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_HistoryDatasets", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "InstallationFacts",
                columns: table => new
                {
                    Key = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    Value = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: false),
                    UpdatedUtc = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_InstallationFacts", x => x.Key);
                });

            migrationBuilder.CreateTable(
                name: "Models",
                columns: table => new
                {
                    Id = table.Column<int>(type: "integer", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Name = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    Family = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    ParameterCountBillions = table.Column<double>(type: "double precision", nullable: false),
                    ContextLength = table.Column<int>(type: "integer", nullable: false),
                    InputPricePerMTokUsd = table.Column<double>(type: "double precision", nullable: true),
                    OutputPricePerMTokUsd = table.Column<double>(type: "double precision", nullable: true),
                    Tags = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: false),
                    CreatedUtc = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    UpdatedUtc = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Models", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "RequestLog",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    RequestId = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: false),
                    TimestampUtc = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    ApiKeyId = table.Column<int>(type: "integer", nullable: true),
                    Endpoint = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: false),
                    RequestedModel = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    DeploymentId = table.Column<int>(type: "integer", nullable: true),
                    DeploymentName = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true),
                    Policy = table.Column<string>(type: "character varying(50)", maxLength: 50, nullable: true),
                    Stream = table.Column<bool>(type: "boolean", nullable: false),
                    Status = table.Column<int>(type: "integer", nullable: false),
                    ErrorType = table.Column<string>(type: "character varying(60)", maxLength: 60, nullable: true),
                    InputTokens = table.Column<int>(type: "integer", nullable: true),
                    OutputTokens = table.Column<int>(type: "integer", nullable: true),
                    CostUsd = table.Column<double>(type: "double precision", nullable: true),
                    TtftMs = table.Column<double>(type: "double precision", nullable: true),
                    E2eMs = table.Column<double>(type: "double precision", nullable: false),
                    OverheadMs = table.Column<double>(type: "double precision", nullable: false),
                    Attempts = table.Column<int>(type: "integer", nullable: false),
                    PlanVersion = table.Column<long>(type: "bigint", nullable: true),
                    Explanation = table.Column<string>(type: "text", nullable: true),
                    FeedbackScore = table.Column<double>(type: "double precision", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_RequestLog", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "RoutingPlans",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Policy = table.Column<string>(type: "character varying(50)", maxLength: 50, nullable: false),
                    ParametersJson = table.Column<string>(type: "text", nullable: false),
                    PricesJson = table.Column<string>(type: "text", nullable: false),
                    PredictedJson = table.Column<string>(type: "text", nullable: true),
                    Status = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    Failure = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true),
                    CreatedUtc = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    CreatedBy = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    Reason = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_RoutingPlans", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "HistoryPrompts",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    DatasetId = table.Column<int>(type: "integer", nullable: false),
                    Source = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    ExternalId = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    PromptSha256 = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Prompt = table.Column<string>(type: "text", nullable: false),
                    InputTokens = table.Column<int>(type: "integer", nullable: false),
                    CreatedUtc = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_HistoryPrompts", x => x.Id);
                    table.ForeignKey(
                        name: "FK_HistoryPrompts_HistoryDatasets_DatasetId",
                        column: x => x.DatasetId,
                        principalTable: "HistoryDatasets",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "Deployments",
                columns: table => new
                {
                    Id = table.Column<int>(type: "integer", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Name = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    ModelId = table.Column<int>(type: "integer", nullable: false),
                    Kind = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    BaseUrl = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: false),
                    ServedModelName = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    ApiKey = table.Column<string>(type: "character varying(8192)", maxLength: 8192, nullable: true),
                    GpuTypeId = table.Column<int>(type: "integer", nullable: true),
                    GpuCount = table.Column<int>(type: "integer", nullable: false),
                    TensorParallel = table.Column<int>(type: "integer", nullable: false),
                    MaxConcurrency = table.Column<int>(type: "integer", nullable: false),
                    Enabled = table.Column<bool>(type: "boolean", nullable: false),
                    Emulator = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true),
                    CreatedUtc = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    UpdatedUtc = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Deployments", x => x.Id);
                    table.ForeignKey(
                        name: "FK_Deployments_GpuTypes_GpuTypeId",
                        column: x => x.GpuTypeId,
                        principalTable: "GpuTypes",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "FK_Deployments_Models_ModelId",
                        column: x => x.ModelId,
                        principalTable: "Models",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "HistoryModelMap",
                columns: table => new
                {
                    Id = table.Column<int>(type: "integer", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    DatasetId = table.Column<int>(type: "integer", nullable: false),
                    DatasetModel = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    RegistryModelId = table.Column<int>(type: "integer", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_HistoryModelMap", x => x.Id);
                    table.ForeignKey(
                        name: "FK_HistoryModelMap_HistoryDatasets_DatasetId",
                        column: x => x.DatasetId,
                        principalTable: "HistoryDatasets",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_HistoryModelMap_Models_RegistryModelId",
                        column: x => x.RegistryModelId,
                        principalTable: "Models",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.SetNull);
                });

            migrationBuilder.CreateTable(
                name: "RoutingPlanActivations",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    PlanId = table.Column<long>(type: "bigint", nullable: false),
                    ActivatedUtc = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    ActivatedBy = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    Reason = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: false),
                    PreviousPlanId = table.Column<long>(type: "bigint", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_RoutingPlanActivations", x => x.Id);
                    table.ForeignKey(
                        name: "FK_RoutingPlanActivations_RoutingPlans_PlanId",
                        column: x => x.PlanId,
                        principalTable: "RoutingPlans",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "HistoryOutcomes",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    PromptId = table.Column<long>(type: "bigint", nullable: false),
                    DatasetModel = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    Score = table.Column<double>(type: "double precision", nullable: false),
                    OutputTokens = table.Column<int>(type: "integer", nullable: true),
                    CostUsd = table.Column<double>(type: "double precision", nullable: true),
                    ResponseText = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_HistoryOutcomes", x => x.Id);
                    table.ForeignKey(
                        name: "FK_HistoryOutcomes_HistoryPrompts_PromptId",
                        column: x => x.PromptId,
                        principalTable: "HistoryPrompts",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "ProfileRuns",
                columns: table => new
                {
                    Id = table.Column<int>(type: "integer", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    DeploymentId = table.Column<int>(type: "integer", nullable: false),
                    Source = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    Status = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    Settings = table.Column<string>(type: "character varying(20000)", maxLength: 20000, nullable: false),
                    CellsTotal = table.Column<int>(type: "integer", nullable: false),
                    CellsDone = table.Column<int>(type: "integer", nullable: false),
                    SamplesRecorded = table.Column<int>(type: "integer", nullable: false),
                    ErrorCount = table.Column<int>(type: "integer", nullable: false),
                    CancelRequested = table.Column<bool>(type: "boolean", nullable: false),
                    Message = table.Column<string>(type: "character varying(20000)", maxLength: 20000, nullable: true),
                    JobId = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true),
                    CreatedUtc = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    StartedUtc = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    FinishedUtc = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    UpdatedUtc = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ProfileRuns", x => x.Id);
                    table.ForeignKey(
                        name: "FK_ProfileRuns_Deployments_DeploymentId",
                        column: x => x.DeploymentId,
                        principalTable: "Deployments",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "ProfileSchedules",
                columns: table => new
                {
                    DeploymentId = table.Column<int>(type: "integer", nullable: false),
                    Cron = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    Settings = table.Column<string>(type: "character varying(20000)", maxLength: 20000, nullable: false),
                    UpdatedUtc = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ProfileSchedules", x => x.DeploymentId);
                    table.ForeignKey(
                        name: "FK_ProfileSchedules_Deployments_DeploymentId",
                        column: x => x.DeploymentId,
                        principalTable: "Deployments",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "ProfileCells",
                columns: table => new
                {
                    RunId = table.Column<int>(type: "integer", nullable: false),
                    CellIndex = table.Column<int>(type: "integer", nullable: false),
                    CompletedUtc = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ProfileCells", x => new { x.RunId, x.CellIndex });
                    table.ForeignKey(
                        name: "FK_ProfileCells_ProfileRuns_RunId",
                        column: x => x.RunId,
                        principalTable: "ProfileRuns",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "ProfileFits",
                columns: table => new
                {
                    Id = table.Column<int>(type: "integer", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    DeploymentId = table.Column<int>(type: "integer", nullable: false),
                    Version = table.Column<int>(type: "integer", nullable: false),
                    RunId = table.Column<int>(type: "integer", nullable: true),
                    IsActive = table.Column<bool>(type: "boolean", nullable: false),
                    CreatedUtc = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    TtftBaseMs = table.Column<double>(type: "double precision", nullable: false),
                    TtftPerInputTokenMs = table.Column<double>(type: "double precision", nullable: false),
                    TtftPerQueuedInputTokenMs = table.Column<double>(type: "double precision", nullable: false),
                    TtftPerQueuedRequestMs = table.Column<double>(type: "double precision", nullable: false),
                    TpotBaseMs = table.Column<double>(type: "double precision", nullable: false),
                    TpotPerRequestMs = table.Column<double>(type: "double precision", nullable: false),
                    TpotPerContextTokenMs = table.Column<double>(type: "double precision", nullable: false),
                    Quality = table.Column<string>(type: "character varying(10000)", maxLength: 10000, nullable: false),
                    TtftCvMape = table.Column<double>(type: "double precision", nullable: true),
                    TpotCvMape = table.Column<double>(type: "double precision", nullable: true),
                    E2eCvMape = table.Column<double>(type: "double precision", nullable: true),
                    IsFlagged = table.Column<bool>(type: "boolean", nullable: false),
                    SamplesUsed = table.Column<int>(type: "integer", nullable: false),
                    ErrorSamples = table.Column<int>(type: "integer", nullable: false),
                    MaxConcurrency = table.Column<double>(type: "double precision", nullable: false),
                    ReferenceInputTokens = table.Column<int>(type: "integer", nullable: false),
                    ReferenceOutputTokens = table.Column<int>(type: "integer", nullable: false),
                    SaturationRequestsPerSecond = table.Column<double>(type: "double precision", nullable: true),
                    SaturationOutputTokensPerSecond = table.Column<double>(type: "double precision", nullable: true),
                    CostPerRequestUsd = table.Column<double>(type: "double precision", nullable: true),
                    CostBasis = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ProfileFits", x => x.Id);
                    table.ForeignKey(
                        name: "FK_ProfileFits_Deployments_DeploymentId",
                        column: x => x.DeploymentId,
                        principalTable: "Deployments",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_ProfileFits_ProfileRuns_RunId",
                        column: x => x.RunId,
                        principalTable: "ProfileRuns",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.SetNull);
                });

            migrationBuilder.CreateTable(
                name: "ProfileSamples",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    RunId = table.Column<int>(type: "integer", nullable: false),
                    CellIndex = table.Column<int>(type: "integer", nullable: false),
                    InputTokens = table.Column<int>(type: "integer", nullable: false),
                    OutputTokens = table.Column<int>(type: "integer", nullable: false),
                    Concurrency = table.Column<double>(type: "double precision", nullable: false),
                    RequestRatePerSecond = table.Column<double>(type: "double precision", nullable: true),
                    TtftMs = table.Column<double>(type: "double precision", nullable: true),
                    TpotMs = table.Column<double>(type: "double precision", nullable: true),
                    E2eMs = table.Column<double>(type: "double precision", nullable: true),
                    ItlP50Ms = table.Column<double>(type: "double precision", nullable: true),
                    ItlP95Ms = table.Column<double>(type: "double precision", nullable: true),
                    ItlMaxMs = table.Column<double>(type: "double precision", nullable: true),
                    IsError = table.Column<bool>(type: "boolean", nullable: false),
                    Error = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: true),
                    StartedUtc = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ProfileSamples", x => x.Id);
                    table.ForeignKey(
                        name: "FK_ProfileSamples_ProfileRuns_RunId",
                        column: x => x.RunId,
                        principalTable: "ProfileRuns",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_AdminUsers_UserName",
                table: "AdminUsers",
                column: "UserName",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_ApiKeys_KeyHash",
                table: "ApiKeys",
                column: "KeyHash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_Deployments_GpuTypeId",
                table: "Deployments",
                column: "GpuTypeId");

            migrationBuilder.CreateIndex(
                name: "IX_Deployments_ModelId",
                table: "Deployments",
                column: "ModelId");

            migrationBuilder.CreateIndex(
                name: "IX_Deployments_Name",
                table: "Deployments",
                column: "Name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_GpuTypes_Name",
                table: "GpuTypes",
                column: "Name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_HistoryDatasets_ContentSha256",
                table: "HistoryDatasets",
                column: "ContentSha256",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_HistoryModelMap_DatasetId_DatasetModel",
                table: "HistoryModelMap",
                columns: new[] { "DatasetId", "DatasetModel" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_HistoryModelMap_RegistryModelId",
                table: "HistoryModelMap",
                column: "RegistryModelId");

            migrationBuilder.CreateIndex(
                name: "IX_HistoryOutcomes_PromptId_DatasetModel",
                table: "HistoryOutcomes",
                columns: new[] { "PromptId", "DatasetModel" });

            migrationBuilder.CreateIndex(
                name: "IX_HistoryPrompts_DatasetId_PromptSha256",
                table: "HistoryPrompts",
                columns: new[] { "DatasetId", "PromptSha256" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_Models_Name",
                table: "Models",
                column: "Name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_ProfileFits_DeploymentId_Version",
                table: "ProfileFits",
                columns: new[] { "DeploymentId", "Version" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_ProfileFits_RunId",
                table: "ProfileFits",
                column: "RunId");

            migrationBuilder.CreateIndex(
                name: "IX_ProfileRuns_DeploymentId_Status",
                table: "ProfileRuns",
                columns: new[] { "DeploymentId", "Status" });

            migrationBuilder.CreateIndex(
                name: "IX_ProfileSamples_RunId_CellIndex",
                table: "ProfileSamples",
                columns: new[] { "RunId", "CellIndex" });

            migrationBuilder.CreateIndex(
                name: "IX_RequestLog_RequestId",
                table: "RequestLog",
                column: "RequestId");

            migrationBuilder.CreateIndex(
                name: "IX_RequestLog_TimestampUtc",
                table: "RequestLog",
                column: "TimestampUtc");

            migrationBuilder.CreateIndex(
                name: "IX_RoutingPlanActivations_ActivatedUtc",
                table: "RoutingPlanActivations",
                column: "ActivatedUtc");

            migrationBuilder.CreateIndex(
                name: "IX_RoutingPlanActivations_PlanId",
                table: "RoutingPlanActivations",
                column: "PlanId");

            migrationBuilder.CreateIndex(
                name: "IX_RoutingPlans_CreatedUtc",
                table: "RoutingPlans",
                column: "CreatedUtc");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "AdminUsers");

            migrationBuilder.DropTable(
                name: "ApiKeys");

            migrationBuilder.DropTable(
                name: "DataProtectionKeys");

            migrationBuilder.DropTable(
                name: "HistoryModelMap");

            migrationBuilder.DropTable(
                name: "HistoryOutcomes");

            migrationBuilder.DropTable(
                name: "InstallationFacts");

            migrationBuilder.DropTable(
                name: "ProfileCells");

            migrationBuilder.DropTable(
                name: "ProfileFits");

            migrationBuilder.DropTable(
                name: "ProfileSamples");

            migrationBuilder.DropTable(
                name: "ProfileSchedules");

            migrationBuilder.DropTable(
                name: "RequestLog");

            migrationBuilder.DropTable(
                name: "RoutingPlanActivations");

            migrationBuilder.DropTable(
                name: "HistoryPrompts");

            migrationBuilder.DropTable(
                name: "ProfileRuns");

            migrationBuilder.DropTable(
                name: "RoutingPlans");

            migrationBuilder.DropTable(
                name: "HistoryDatasets");

            migrationBuilder.DropTable(
                name: "Deployments");

            migrationBuilder.DropTable(
                name: "GpuTypes");

            migrationBuilder.DropTable(
                name: "Models");
        }
    }
}
