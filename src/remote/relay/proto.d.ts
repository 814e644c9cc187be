/** `.proto` files are bundled as text (`import x from "./f.proto" with { type: "text" }`). */
declare module "*.proto" {
  const text: string;
  export default text;
}
