using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Flare.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class RequestLogByPlan : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "IX_RequestLog_PlanVersion_Id",
                table: "RequestLog",
                columns: new[] { "PlanVersion", "Id" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_RequestLog_PlanVersion_Id",
                table: "RequestLog");
        }
    }
}
