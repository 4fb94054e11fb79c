// The quickstart handler: `make run` calls it with {"name":"World"}.
function handler(event) {
  event.message = `Hello, ${event.name}!`;
  return event;
}
