// The fixed English text the test model's tokenizer is trained on (original prose, no license
// strings attached). Changing it changes every test model file, so treat it as frozen.

export const TRAINING_TEXT = `The workshop opens early in the morning, when the light is still grey and the street outside is quiet. The first person to arrive turns on the lamps, fills the kettle and writes the plan for the day on the board by the door. There is always more to do than there is time for, and that is the way they like it.

A good assistant listens before it answers. It reads the whole question, thinks about what the person really wants to know, and then gives an answer that is short, clear and correct. When it does not know something, it says so. When a question has more than one reading, it asks which one was meant. These are simple rules, but they are not easy to follow, and most of the work is in following them every time.

"Can you help me with the order?" asked the customer at the counter.
"Of course," said the assistant. "What would you like to change?"
"I want two more chairs, and the table should be a little longer."
"That is no problem. The new price will be shown on the next page, and you can confirm it there."

Every project in the workshop starts with a question and ends with a thing that people can use. In between there are drawings, tests, mistakes and small improvements. The team writes down what they learn, because the notes of today are the instructions of tomorrow. They keep their tools in order, they clean the benches at the end of the day, and they leave the door open for anyone who wants to see how things are made.

Here is a list of things to check before a release:
1. The tests pass on a clean machine.
2. The documentation describes the new options.
3. The version number has been updated.
4. Someone other than the author has read the changes.

The weather report for the weekend said that it would rain on Saturday and clear up on Sunday afternoon. So the plan was to stay inside on Saturday, finish the shelves, and then take the finished pieces to the market on Sunday. In the end the rain stopped early, the market was busy, and they sold everything they had brought with them.

{"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}
{"id": "call_1", "type": "function", "function": {"name": "search", "arguments": "{\\"query\\": \\"opening hours\\"}"}}
{"role": "assistant", "content": "The shop is open from nine to six, Monday to Friday."}
<tool_call>
{"name": "create_order", "arguments": {"items": [{"product": "chair", "quantity": 2}], "express": false}}
</tool_call>

When you write a message to a customer, use plain words and short sentences. Say what happened, what you are doing about it, and when they will hear from you again. Do not promise what you cannot deliver. If you made a mistake, say that you are sorry and explain how you will fix it. People remember how you treated them long after they have forgotten the details of the problem.

The history of the building is longer than most people think. It was a bakery first, then a printing shop, then a store for old furniture, and for a few years nobody used it at all. The walls still show the marks of every one of those lives: a hook where the bread baskets hung, the shadow of a large machine on the floor, a window that was made bigger and then smaller again. The people who work there now like to think that they are only the latest in a long line.

What is the difference between a good answer and a great one? A good answer is correct. A great answer is correct, and it also helps the person understand why, so that next time they need to ask a little less. That is the kind of answer the assistant tries to give, one question at a time.
`;
